module example.com/m

go 1.22

require (
	example.com/lib v1.0.0
	example.com/x v1.0.0
	example.com/y v1.0.0
)

replace example.com/x => ./x // want gowork-shadow `\.\./go.work also replaces example.com/x \(line 8\): in workspace mode the go command ignores this replace, so local builds use \./xwork while builds without the workspace \(CI, GOWORK=off\) use \./x`

replace example.com/lib => ../libcopy // want gowork-shadow `\.\./go.work uses \./lib as module example.com/lib \(line 4\)`

replace example.com/y => ./y
