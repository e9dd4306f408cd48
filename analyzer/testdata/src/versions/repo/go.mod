module example.com/versions

go 1.22

require (
	example.com/down v1.5.0
	example.com/downv v1.5.0
	example.com/exact v1.2.0
	example.com/inert v1.2.0
	example.com/up v1.5.0
)

replace example.com/down => example.com/down v1.4.0 // want downgrade "replace pins example.com/down to v1.4.0, below the required v1.5.0"

replace example.com/downv v1.5.0 => example.com/downv v1.0.0 // want downgrade "below the required v1.5.0"

replace example.com/up v1.5.0 => example.com/up v1.6.0

replace example.com/inert v1.1.0 => example.com/inert v1.3.0 // want inert "applies only to example.com/inert v1.1.0, but go.mod requires v1.2.0"

replace example.com/exact v1.2.0 => example.com/exact v1.2.1

replace example.com/notreq => example.com/notreq v1.0.0 // want unused "example.com/notreq is not required by this module"

replace example.com/notreq2 v1.0.0 => ../elsewhere // want unused "example.com/notreq2 is not required"

replace example.com/versions => ./ // want inert "replace of the main module example.com/versions never takes effect"
