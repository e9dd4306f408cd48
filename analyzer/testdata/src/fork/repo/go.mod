module example.com/fork

go 1.22

require (
	example.com/lib v1.0.0
	example.com/lib2 v1.0.0
)

replace example.com/lib v1.0.0 => github.com/someone/lib v1.0.1 // want fork "replace applies to example.com/lib v1.0.0 required by this module: builds a different module, github.com/someone/lib v1.0.1, in place of example.com/lib"

replace example.com/lib2 v1.0.0 => example.com/trusted/lib2 v1.0.1
