// Package realgraph is the real module graph modkit's whole-command
// benchmarks run on: a pinned main module (cobra, viper, grpc, gin, gorm,
// the aws-sdk-go-v2 config and s3 clients, the prometheus client, x/tools:
// 139 modules, about 110 MB of zips, 23k files in 6k directories once
// extracted), fetched once from the Go module proxy into a local tree that
// is kept between runs, and served from that tree on loopback by
// modnettest, with its latency and faults. It is benchmark data and its
// server, not an API: only the measurement programs in examples/ use it.
//
// Real modules are what make a benchmark honest: their cost is inflating,
// hashing and creating tens of thousands of files, which generated modules
// of a few large files hide.
//
// Only commands under examples/ use it, never go test: [Open] needs the
// network the first time (GOPROXY as the go command reads it, since it is
// the go command that fetches).
//
// # The pinned graph
//
// main/go.mod.txt, main/go.sum.txt and main/main.go.txt are the main
// module, renamed so that the directory is not a module of its own (and can
// be embedded). go.sum holds every line 'go mod download all' needs, so the
// benchmark never has to consult a checksum database. To move the graph to
// newer versions, copy the three files into an empty directory without the
// .txt suffix, run 'go get -u ./... && go mod tidy && go mod download all'
// there, and copy go.mod and go.sum back. The tree's directory is named
// after a hash of go.sum, so the next Open fetches the new graph.
package realgraph
