module example.com/duplicate

go 1.22

require (
	example.com/a v1.0.0
	example.com/l v1.0.0
	example.com/o v1.0.0
	example.com/x v1.0.0
)

replace example.com/a v1.0.0 => example.com/a v1.0.1

replace example.com/l => ./l

replace (
	example.com/a v1.0.0 => example.com/a v1.0.1 // want duplicate "replace of example.com/a v1.0.0 repeats line 12; remove the repeat"
	example.com/l => ./l // want duplicate "replace of example.com/l repeats line 14"
)

replace example.com/o => example.com/o v1.1.0 // want wildcard `replace of every version of example.com/o applies to no version of example.com/o in this module's graph \(replaces of those very versions win\): builds example.com/o v1.1.0 in place of every version, today's and every future upgrade`

replace example.com/o v1.0.0 => example.com/o v1.2.0 // want duplicate "replace of example.com/o v1.0.0 overlaps the replace of every version of example.com/o at line 21"

replace example.com/x v1.0.0 => example.com/y v1.0.0 // want fork "different module"

replace example.com/y => example.com/z v1.0.0 // want duplicate "replace of example.com/y does not apply to the replacement at line 25 .*replacements do not chain" unused "example.com/y is not in this module's graph" wildcard "replace of every version of example.com/y applies to no module"
