// Package envcheck is the doctor for a machine's Go module environment: it
// runs independent checks over the settings the go command reads (the
// process environment, the GOENV file, $GOROOT/go.env, the go.mod in the
// current directory) and over the network paths module downloads take,
// and reports, for each problem, what is wrong, where the bad value came
// from and the exact fix. It changes no setting and downloads no module:
// the fixes are for the user to apply, and the only file it writes is a
// temporary probe of the module cache's writability, removed at once.
//
// [Run] runs the checks concurrently, each with its own timeout and
// isolated from the others (a panic becomes that check's error), within an
// overall deadline, and returns a [Report]: one [Result] per check with a
// stable ID, a [Status] (ok, info, warn, error, skip), a one-line summary,
// details and a fix to copy, such as a 'go env -w' line, an export line or
// a file to edit. [Report.WriteText] and the report's JSON form are what the
// moddoctor command prints.
//
// Static checks never touch the network. They read the same [modnet.Env]
// and [modnet.Env.Route] as the rest of modkit, so the doctor and the
// downloader agree on what the go command would do: which GOPROXY entries
// are tried and when the go command falls back (only on 404/410 after ',',
// on any error after '|'), which paths are private, where the checksum
// database is reached.
//
// Live probes (switched off by Options.Offline) ask each proxy for a
// public module's version list, find the checksum database as the go
// command does (the /sumdb/<name>/supported probe along GOPROXY) and verify
// its signed tree head, resolve and connect to every endpoint, tunnel
// through the HTTPS proxy in effect (chosen from HTTP_PROXY, HTTPS_PROXY
// and NO_PROXY afresh on every run), verify certificates naming their
// issuer (and a TLS-intercepting proxy, if that is what signed them), and
// compare the local clock with the servers'. Probes never send a module
// path that GOPRIVATE, GONOPROXY or GONOSUMDB matches to any server.
// Failures are explained in the shared error classes of the retry package
// ("refused", "reset", "timeout", "dns-notfound", "tls", ...), each with
// a fix.
//
// The checks and their IDs are listed by [Checks].
package envcheck
