// Package modnet is where Go modules come from and how they arrive, decided
// as the go command decides it: the module environment ([Env], each value
// with the layer it came from), a module's route through GOPROXY with its
// fallback rules and checksum database decision ([Env.Route], [Walk]), the
// proxy protocol and direct mode across that route ([Client]), verification
// against go.sum and the checksum database ([GoSum], [SumDB]), the module
// cache in the go command's layout and locks ([Cache]), whole module graphs
// ([Client.Prefetch], [ModGraphLoader]) and toolchain switching. It is not a
// go command: it builds nothing and never edits go.mod (Prefetch adds to
// go.sum what 'go mod download all' would add, and no more). Finding a
// repository for an import path is package [vcs]; serving the GOPROXY
// protocol is package modproxy; a proxy for tests is package modnettest.
//
// # Deliberate differences
//
// Every request goes through [retry.Client]: a transient failure is retried
// before the route moves on, a zip cut short is resumed, a corrupt transfer
// is downloaded once more, and a late answer is hedged; [Client.NoRetry],
// or Disabled on [Client.HTTP], which means the same, switches all of this
// off. Zips are checked against all of the module zip rules before they are
// stored, where the go command finds violations only when extracting.
// Credentials never appear in errors, logs or JSON, user names included.
// Where modnet matches a go command behaviour, the code cites the cmd/go
// source it follows.
package modnet
