module example.com/noop

go 1.22

require (
	example.com/k v1.0.0
	example.com/m v1.0.0
	example.com/n v1.0.0
)

// A leftover.
replace example.com/n v1.0.0 => example.com/n v1.0.0 // want noop "replace of example.com/n v1.0.0 with itself has no effect"

replace (
	example.com/m v1.0.0 => example.com/m v1.0.0 // want noop "with itself"
)

replace (
	example.com/k v1.0.0 => example.com/k v1.0.1
	example.com/k v1.0.1 => example.com/k v1.0.1 // want noop "with itself" inert "replace applies only to example.com/k v1.0.1, but the module graph holds example.com/k at v1.0.0 required by this module, not v1.0.1"
)
