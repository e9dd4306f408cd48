// Package modnet resolves, downloads, verifies and caches Go modules the way
// the go command does.
//
// # Where a module comes from
//
// An [Env] is the module-download environment, loaded like the go command
// loads it (process environment, the GOENV file, $GOROOT/go.env, built-in
// defaults), with the layer every value came from. [Env.Route] answers where
// the go command would fetch a module from: the ordered GOPROXY sources with
// their fallback rules (',' falls through only on not-found, '|' on any
// error; "direct" and "off" end the list), the GONOPROXY/GOPRIVATE rule that
// sends private paths direct, the checksum database decision (GOSUMDB,
// GONOSUMDB) and whether GOINSECURE applies. A malformed setting is a
// [*SettingError] naming the entry, where it came from and the fix.
//
// # Downloading
//
// A [Client] performs the proxy protocol operations ([Client.List],
// [Client.Query], [Client.Info], [Client.GoMod], [Client.Zip]) and
// [Client.Download] across a module's Route, with the go command's fallback
// and error ranking. Everything it downloads is verified against go.sum
// lines ([GoSum]) or the checksum database ([SumDB]) before it is stored
// in the module cache ([Cache]), in the go command's layout and under its
// lock files, so a go command can build from it offline and both can work
// on one cache at once. A hash mismatch is a [*ChecksumError]. Failures are
// [*ModuleError]s wrapping the [retry.Error] of the failed request.
// [Client.Prefetch] downloads a whole module graph, which it loads with a
// [ModGraphLoader]: the go command's graph walk (pruning, the main
// module's replace and exclude directives, minimal version selection)
// over any [GoModSource], a Client or the module cache alone. [Fetcher] adapts a
// Client to the Fetcher interface of goproxy-style module proxy servers.
//
// Credentials come from GOAUTH and .netrc as in the go command since Go
// 1.24: only over https, never to another host after a redirect, never in
// errors or logs.
//
// Direct mode runs in-process: package [vcs] finds a repository by go-get
// discovery and GOVCS ([Env.CheckVCS]) decides whether it may be used; git
// repositories become versions, pseudo-versions and module zips exactly as
// the go command makes them.
//
// # Deliberate differences
//
// Every request goes through [retry.Client]: a transient failure is retried
// before the route moves on, a zip cut short is resumed, a corrupt transfer
// is downloaded once more, and a late answer is hedged. [Client.NoRetry]
// switches all of this off. Zips are checked against all of the module zip
// rules before they are stored, where the go command finds violations only
// when extracting.
//
// Where modnet matches a go command behaviour, the code cites the cmd/go
// source it follows.
package modnet
