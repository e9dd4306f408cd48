// Package modnettest provides a Go module proxy for tests, in the way
// net/http/httptest provides HTTP servers: a [Server] speaks the GOPROXY
// protocol on a loopback address, hosts a checksum database for what it
// serves, records every request, and misbehaves on demand, deterministically.
// It is for tests: its modules live in memory (or in a directory it only
// reads), and it is no proxy to put in front of real go commands.
//
// # Terms
//
// A module version is served as four files, each named by the case-escaped
// module path and version (golang.org/x/mod/module.EscapePath):
//
//	<path>/@v/list            tagged versions, one per line
//	<path>/@v/<version>.info  JSON {"Version", "Time"}
//	<path>/@v/<version>.mod   the go.mod file
//	<path>/@v/<version>.zip   the module zip
//	<path>/@latest            the .info of the latest version
//
// The same layout on disk is a GOPROXY directory (usable as GOPROXY=file://)
// and is also what a module cache keeps in cache/download.
//
// A [Module] is a module version held in memory; its zip is built with
// golang.org/x/mod/zip and its go.sum lines computed with
// golang.org/x/mod/sumdb/dirhash, exactly as the go command computes them.
// [WriteDir] writes modules in GOPROXY layout; [NewServerFromDir] serves
// such a directory.
//
// The checksum database ([SumDB]) is golang.org/x/mod/sumdb's server over a
// tlog tree signed with a key generated per server. The go command reaches
// it directly with GOSUMDB set to [SumDB.GOSUMDB], or through the proxy with
// GOSUMDB set to [SumDB.Key] alone, since the server answers
// /sumdb/<name>/supported. [SumDB.SetMode] makes it lie, for security tests.
//
// # Faults
//
// [Server.SetFaults] configures [Faults]: [Rule]s that apply a [Fault] to
// every matching request (or to the first few), then a seeded mix of
// [Chance]s. The fault for a request depends only on the seed, the URL path
// and how many requests for that path came before, never on goroutine
// scheduling, so a failing run can be replayed. Faults act at the level a
// client observes: a TCP reset before the answer, a status code with or
// without Retry-After, a body cut short of its Content-Length, a stall
// before or during the body, latency and bandwidth limits, trickled bodies,
// a server without range support (Faults.NoRange), and a corrupted byte; a
// Chance with First picks files rather than requests, faulting a picked
// file's first few requests (a cache serving a bad copy for a while). Stalls end when the client gives up or the server closes; Close
// leaves no goroutine behind.
//
// # Request log
//
// [Server.Requests] returns every request in arrival order with what was
// asked ([FileKind], module, version, Range), the fault applied, the status
// and the body bytes sent, so differential tests can compare which server
// was asked for which file, and in which order.
//
// # Synthetic graphs
//
// [GenerateGraph] makes a main module and a graph of dependency modules of
// realistic sizes from a seed, with the main module's go.mod and go.sum, for
// benchmarks of "go mod download all" and its alternatives.
package modnettest
