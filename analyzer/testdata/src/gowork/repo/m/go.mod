module example.com/m

go 1.22

require (
	example.com/lib v1.0.0
	example.com/same v1.0.0
	example.com/w v1.0.0
	example.com/x v1.0.0
	example.com/y v1.0.0
	example.com/z v1.0.0
)

replace example.com/x => ./x // want gowork-shadow `\.\./go.work also replaces example.com/x \(line 11\): in workspace mode the go command ignores this replace, so workspace builds use directory \.\./xwork while builds without the workspace \(CI, GOWORK=off\) use directory \./x`

replace example.com/lib => ../libcopy // want gowork-shadow `\.\./go.work uses \./lib as module example.com/lib \(line 4\): in workspace mode the go command builds that directory and ignores this replace, so workspace builds use directory \.\./lib while builds without the workspace \(CI, GOWORK=off\) use directory \.\./libcopy`

replace example.com/y => ./y // want gowork-shadow `\.\./go.work also uses \./n, whose go.mod replaces example.com/y with directory \.\./y2: in workspace mode the go command refuses to load the workspace`

// The workspace builds the same directories: nothing to report.
replace example.com/same => ../same

replace example.com/w => ./w

replace example.com/z v1.0.0 => example.com/z v1.1.0 // want gowork-shadow `\.\./go.work uses \./z as module example.com/z \(line 8\): in workspace mode the go command builds that directory and ignores this replace, so workspace builds use directory \.\./z while builds without the workspace \(CI, GOWORK=off\) use example.com/z v1.1.0`
