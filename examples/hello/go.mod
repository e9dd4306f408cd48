module github.com/modkit/modkit/examples/hello

go 1.25.0

require github.com/fatih/color v1.16.0

require (
	github.com/mattn/go-colorable v0.1.13 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	golang.org/x/sys v0.47.0 // indirect
)
