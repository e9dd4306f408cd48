module example.com/undocumented

go 1.22

require (
	example.com/a v1.0.0
	example.com/b v1.0.0
	example.com/c v1.0.0
	example.com/d v1.0.0
	example.com/e v1.0.0
)

// Fix for issue 3, until v1.0.1 is tagged upstream.
replace example.com/a v1.0.0 => example.com/a v1.0.1

replace example.com/b v1.0.0 => example.com/b v1.0.1 // upstream PR 7

replace example.com/c v1.0.0 => example.com/c v1.0.1 // want undocumented "replace of example.com/c has no comment saying why"

// Pins for the release branch.
replace (
	example.com/d v1.0.0 => example.com/d v1.0.1
)

replace (
	example.com/e v1.0.0 => example.com/e v1.0.1 // want undocumented "has no comment"
)
