// Package modnet resolves, downloads, verifies and caches Go modules the way
// the go command does.
//
// An [Env] is the module-download environment, loaded like the go command
// loads it (process environment, the GOENV file, $GOROOT/go.env, built-in
// defaults), with the origin of every value. [Env.Route] answers where the go
// command would fetch a module from: the ordered GOPROXY sources with their
// fallback rules, the GONOPROXY/GOPRIVATE rule that sends private paths
// direct, the checksum database decision (GOSUMDB, GONOSUMDB) and whether
// GOINSECURE applies.
//
// Where modnet matches a go command behaviour, the code cites the cmd/go
// source it follows; deliberate differences are documented where they occur.
package modnet
