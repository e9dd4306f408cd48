module example.com/other

go 1.22

require example.com/x v1.0.0

// Not in the workspace: the go.work does not govern this module.
replace example.com/x => ../xwork
