module example.com/pseudo

go 1.22

require (
	example.com/p v1.0.0
	example.com/t v1.0.0
)

replace example.com/p v1.0.0 => example.com/p v1.0.1-0.20230101000000-abcdefabcdef // want pseudo-version "replace applies to example.com/p v1.0.0 required by this module: builds example.com/p v1.0.1-0.20230101000000-abcdefabcdef, a pseudo-version"

replace example.com/t v1.0.0 => example.com/t v1.0.1
