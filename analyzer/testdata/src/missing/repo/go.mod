module example.com/missing

go 1.22

require (
	example.com/a v1.0.0
	example.com/b v1.0.0
)

// The module cache lacks the go.mod of example.com/a, which may require
// example.com/c, or example.com/b v1.0.1: modreplace cannot tell, and says so.
replace example.com/c => example.com/c v1.1.0 // want note unused `cannot tell whether the replace of example.com/c applies \(nor about the replaces at line 14\): 1 go.mod file of the module graph is not in the module cache \(example.com/a@v1.0.0\); run 'go list -m all' in .*/missing/repo once to fill the module cache, or enable the retracted check \(-enable=retracted\), which lets modreplace fetch them through GOPROXY` wildcard "applies to no module in the part of the module graph that could be loaded"

replace example.com/b v1.0.1 => example.com/b v1.2.0

replace example.com/b v1.0.0 => example.com/b v1.1.0
