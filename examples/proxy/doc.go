// Command proxy is a caching Go module proxy built on modkit: point the go
// command's GOPROXY at it, and it serves the module proxy protocol and the
// checksum database from its own disk, fetching what it lacks through a
// [modproxy.Server] over a [modnet.Client], with modnet's retries, resumes
// and verification. The serving is package modproxy's; this command adds
// only its flags, its stores (a directory, or an object store) and logs.
//
// Usage:
//
//	cd examples/proxy && go run . -listen localhost:8080 -cache /var/cache/modproxy
//	GOPROXY=http://localhost:8080 go mod download
//
// It serves:
//
//	/<module>/@v/list              tagged versions, retracted ones included
//	/<module>/@v/<version>.info    .mod, .zip: stored once, served with Range and ETag
//	/<module>/@latest
//	/sumdb/<name>/supported        the checksum database of GOSUMDB, proxied,
//	/sumdb/<name>/lookup/...       so that GOSUMDB=<name> works through it
//	/sumdb/<name>/tile/...
//	/sumdb/<name>/latest
//	/healthz
//
// Upstream is the environment's module route, as for the go command:
// GOPROXY (or -upstream), GONOPROXY and GOPRIVATE (direct), GOSUMDB (or
// -gosumdb) for verification, GOAUTH and .netrc for credentials. The
// -cache directory holds the proxy's module cache (modcache/), the
// checksum database's state (gopath/) and the store it serves from
// (store/, a GOPROXY tree).
//
// Each file is fetched on its own: a .mod request fetches the go.mod
// alone. When upstream fails, a version list or @latest is answered with
// the last good answer, marked with a Warning header. "Not found" is
// answered with 404, a timeout with 404 and Cache-Control: no-store, other
// upstream failures with 502 and the error text, which the go command
// prints.
//
// Logs are structured (log/slog), one record per request, text or JSON
// (-log-json); they never contain request headers or credentials.
//
// Exit codes: 0 after a clean shutdown (SIGINT, SIGTERM), 1 on failure, 2
// for bad usage.
package main
