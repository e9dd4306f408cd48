module example.com/versions

go 1.22

require (
	example.com/down v1.5.0
	example.com/downv v1.5.0
	example.com/exact v1.2.0
	example.com/inert v1.2.0
	example.com/up v1.5.0
)

replace example.com/down => example.com/down v1.4.0 // want downgrade "replace applies to example.com/down v1.5.0 required by this module: downgrades it to v1.4.0, so builds use older code" wildcard "replace of every version of example.com/down applies to example.com/down v1.5.0 required by this module: builds example.com/down v1.4.0 in place of every version.*pin it to v1.5.0"

replace example.com/downv v1.5.0 => example.com/downv v1.0.0 // want downgrade "applies to example.com/downv v1.5.0 required by this module: downgrades it to v1.0.0"

replace example.com/up v1.5.0 => example.com/up v1.6.0

replace example.com/inert v1.1.0 => example.com/inert v1.3.0 // want inert "applies only to example.com/inert v1.1.0, but the module graph holds example.com/inert at v1.2.0 required by this module, not v1.1.0: it never takes effect; change its version to v1.2.0"

replace example.com/exact v1.2.0 => example.com/exact v1.2.1

replace example.com/notreq => example.com/notreq v1.0.0 // want unused `example.com/notreq is not in this module's graph \(no module of the 6 in it requires example.com/notreq\)` wildcard "replace of every version of example.com/notreq applies to no module in this module's graph"

replace example.com/notreq2 v1.0.0 => ../elsewhere // want unused "example.com/notreq2 is not in this module's graph" local-escape "replacement directory ../elsewhere does not exist"

replace example.com/versions => ./ // want inert "replace of the main module example.com/versions never takes effect"
