// Command modfetch resolves and fetches Go modules as the go command would.
// It is not a go command: it builds nothing and never edits go.mod.
//
// Usage:
//
//	modfetch route [-json] MODULE...
//	modfetch download [-json] [-x] [-noretry] MODULE@VERSION...
//	modfetch prefetch [-json] [-j N] [-modfile PATH] [-extract=false] [-toolchain=false] [-gosum=false] [-readahead=false]
//	modfetch exec [-v] [-readahead=false] [-readahead-latency D] [-toolchain=false] [--] COMMAND [ARG...]
//	modfetch serve [-listen ADDR] [-cache DIR] [-allow-remote] [-foreground] [-format sh|env] [-v] [-readahead=false] [-readahead-latency D] [-toolchain=false]
//
// route prints, for each module path, the sources the go command would try
// in order (GOPROXY entries with their fallback rule, direct, off), the
// checksum database decision, and whether GOINSECURE and GOPRIVATE apply.
//
// download fetches module versions into the module cache like
// 'go mod download', verifying them against the go.sum of the enclosing
// module or the checksum database, and prints the same JSON with -json.
// Unlike the go command it retries transient failures and resumes cut
// downloads; -noretry turns that off. -x prints each request.
//
// prefetch fills the module cache with everything the main module's graph
// needs, as 'go mod download all' does, verified against its go.sum, so
// that the go command can then build offline: many transfers at once,
// retrying, resuming and hedging, through failures that make the go
// command give up. -j bounds the transfers in flight, overall and to one
// host (default 64 overall, 32 per host); -modfile names the go.mod
// (default: that of the module containing the current directory; in a
// go.work workspace, the workspace: everything 'go mod download' fetches
// there, every use'd module's graph with go.work's replacements); -extract=false fills only the download cache
// (.info, .mod, .zip and .ziphash of each module, every zip verified),
// from which the go command extracts modules on first use, offline: what a
// CI cache should hold. What go.sum lists is fetched and verified before
// the graph walk confirms it, and held back until then (a stale line
// leaves no trace); -readahead=false fetches only what the walk confirmed.
// On a terminal a live progress line shows on standard error (modules
// done of how many, MiB received of how many, rate and ETA); otherwise
// only the closing summary does, after a warning for each download that
// failed verification and is downloaded again. -json prints each event
// (start, retry, mismatch, done, fail) as a JSON object per line on
// standard output, then a
// "summary" object. It exits 0 only when every module is in the cache and
// verified.
//
// Like 'go mod download all', prefetch adds to go.sum (go.work.sum in a
// workspace) the lines it lacks for what it verified: the go.mod hash of
// every module in the graph and the zip hash of every module of the build
// list; -gosum=false leaves the file untouched.
// When go.mod's go or toolchain line makes the go command switch to a newer
// toolchain (GOTOOLCHAIN auto, the default), prefetch fetches that
// toolchain too, unless it is in PATH; -toolchain=false leaves it out.
// download likewise switches, as 'go mod download' does, when a module
// needs a newer Go: it fetches the toolchain and downloads again with it.
//
// exec runs COMMAND with its module traffic going through a module proxy
// started for it on 127.0.0.1 (package modproxy), backed by the whole
// module environment: GOPROXY with its fallback rules, GONOPROXY and
// GOPRIVATE fetched direct, GOSUMDB proxied. The go command's own
// downloads (go mod tidy, go get, go build...) are then retried, resumed,
// hedged and read ahead; it verifies what it receives itself, so it ends
// as it would without exec. The command's environment has GOPROXY set to
// the user's list with each entry on the server under a secret path
// prefix (the go command falls back from one entry to the next per
// lookup, as without exec; each entry answers version lists and queries
// from its own source), GONOPROXY=none if GONOPROXY or
// GOPRIVATE is set, GOAUTH=off, and a GOSUMDB naming a URL reduced to its
// key. Standard input, output, error and signals pass through; exec exits
// with the command's status (127 when it is not found, 126 when it cannot
// run; a command killed by a signal kills modfetch with it). When
// something was retried, hedged or failed, one summary line goes to
// standard error; -v prints each request and retry, and the summary.
// -readahead=false stops fetching ahead of the requests; -readahead-latency
// D (such as 2ms) fetches ahead only while round trips upstream (the
// shortest of the last 16 go.mod fetches) take at least D, for machines
// where the CPU fetches ahead take matters more than the waiting they hide
// on a near mirror; by default it reads ahead at any latency. When the go.work
// or go.mod file's go or toolchain line switches the go command to a newer
// toolchain that it would download (GOTOOLCHAIN auto, not in PATH, not in
// the module cache), exec starts fetching that toolchain's zip of
// golang.org/toolchain, and its checksum database record, before the go
// command runs, so that its download at startup is answered by a fetch
// already under way, retried and resumed; the go command verifies it as
// always. -toolchain=false leaves the toolchain to the go command's own
// request (retried just the same).
//
// serve runs the same server for a shell session or a CI job: it prints
// the variables as sh commands to eval (as ssh-agent does), or NAME=value
// lines with -format env, with MODFETCH_SERVE_PID, and goes to the
// background (-foreground: stays). It serves until SIGINT or SIGTERM.
// -listen must be a loopback address unless -allow-remote; -cache keeps
// what it fetched across runs.
//
// Exit status: 0 on success, 1 when something failed (such as a malformed
// environment), 2 on a usage error; exec passes on its command's.
package main
