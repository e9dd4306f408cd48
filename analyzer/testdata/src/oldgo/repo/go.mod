module example.com/oldgo

go 1.16

require example.com/a v1.0.0

// A go.mod before go 1.17 does not list the modules its dependencies
// require: the graph of an unpruned module is followed to the end.
replace example.com/transitive v1.0.0 => example.com/transitive v1.0.1

replace example.com/a v0.9.0 => example.com/a v1.0.1 // want inert "replace applies only to example.com/a v0.9.0, but the module graph holds example.com/a at v1.0.0 required by this module, not v0.9.0"

replace example.com/gone => example.com/gone v1.0.1 // want unused "example.com/gone is not in this module's graph" wildcard "applies to no module in this module's graph"
