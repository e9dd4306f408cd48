module example.com/retracted

go 1.22

require (
	example.com/dep v1.0.0
	example.com/err v1.0.0
	example.com/ok v1.0.0
	example.com/r v1.0.0
)

replace example.com/r v1.0.0 => example.com/r v1.0.1 // want retracted `replacement example.com/r v1.0.1 is retracted by its authors \(broken build\)`

replace example.com/dep v1.0.0 => example.com/dep v1.0.1 // want retracted "replacement module example.com/dep is deprecated: use example.com/dep2"

replace example.com/ok v1.0.0 => example.com/ok v1.0.1

replace example.com/err v1.0.0 => example.com/err v1.0.1 // want retracted "cannot check whether example.com/err v1.0.1 is retracted: proxy unreachable"
