// Package modnet fetches Go modules as the go command does: [Env] (the
// module environment), [Env.Route] (GOPROXY's sources for a path), [Client]
// (the proxy protocol and direct mode across a route, through [retry]),
// [GoSum] and [SumDB] (verification), [Cache] (GOMODCACHE's layout and
// locks) and [Client.Prefetch] (a whole module graph). It builds nothing and
// never edits go.mod; graphs are package [modload], import paths [vcs], the
// GOPROXY server modproxy, and a proxy for tests modnettest.
//
// Deliberate differences, cmd/go cited where matched: transient failures
// are retried, cut zips resumed, corrupt ones fetched again and late answers
// hedged ([Client.NoRetry] turns it off); zips are checked before they are
// stored; credentials, user names included, never appear in any output.
package modnet
