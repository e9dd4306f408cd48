module example.com/wildcard

go 1.22

require (
	"example.com/quoted" v1.0.0
	example.com/higher v1.0.0
	example.com/loc v1.0.0
	example.com/pinned v1.0.0
	example.com/same v1.3.0
	example.com/w v1.2.0
)

replace example.com/w => example.com/wfork v1.0.0 // want fork "different module" wildcard "replace of every version of example.com/w applies to example.com/w v1.2.0 required by this module: builds example.com/wfork v1.0.0 in place of every version, today's and every future upgrade.*pin it to v1.2.0"

replace example.com/same => example.com/same v1.3.0 // want wildcard "replace of every version of example.com/same applies to example.com/same v1.3.0 required by this module: builds the selected version v1.3.0 itself, which does nothing today"

replace (
	example.com/higher => example.com/higher v1.1.0 // want wildcard "every future upgrade"
	example.com/loc => ./loc
)

replace "example.com/quoted" => example.com/quoted v1.1.0 // want wildcard "every future upgrade"

replace example.com/pinned v1.0.0 => example.com/pinned v1.0.1
