module example.com/gcl

go 1.22

require (
	example.com/fork v1.0.0
	example.com/in v1.0.0
	example.com/out v1.0.0
	example.com/pseudo v1.0.0
	example.com/wild v1.0.0
	github.com/myorg/lib v1.0.0
)

// Our fix for the parser crash is not released yet.
replace example.com/fork v1.0.0 => github.com/someone/fork v1.0.1

replace example.com/pseudo v1.0.0 => example.com/pseudo v1.0.1-0.20230101000000-abcdefabcdef

replace example.com/wild => example.com/wild v1.1.0 // upstream is slow to release

// A sibling checkout, for local development.
replace example.com/out => ../out

// Vendored into this repository.
replace example.com/in => ./in

// Our own fork, allowed in .golangci.yml.
replace github.com/myorg/lib v1.0.0 => github.com/myorg/lib-fork v1.0.0
