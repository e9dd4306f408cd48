// Package modnet fetches Go modules as the go command does: [Env] is the
// module environment, [Env.Route] a path's sources through GOPROXY, [Client]
// the proxy protocol and direct mode across them (with retries, see there),
// [GoSum] and [SumDB] verify, [Cache] is GOMODCACHE, [Client.Prefetch]
// fetches a whole graph and [Env.SelectToolchain] picks the toolchain.
// Credentials never appear in any output. It builds nothing and edits no
// go.mod; graphs are package [modload], import paths [vcs], serving GOPROXY
// modproxy, and a proxy for tests modnettest.
package modnet
