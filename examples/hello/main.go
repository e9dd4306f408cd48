// Command hello is a small module with a real dependency graph, for
// trying modfetch prefetch on a fresh machine: from the repository root,
//
//	go run ./modnet/cmd/modfetch prefetch -modfile examples/hello/go.mod
//
// fills the module cache with everything 'go mod download all' would
// fetch for it (fatih/color and its dependencies, one of them a pre-1.17
// module whose whole requirement graph is loaded), verified against
// go.sum. After that, the program builds and runs without the network:
//
//	cd examples/hello && GOPROXY=off go run .
package main

import "github.com/fatih/color"

func main() {
	color.Green("hello, modules")
}
