// Package modkit makes Go module downloads resolvable, resilient and
// diagnosable. It is a map of its packages; the root package itself has no API.
//
//   - [github.com/modkit/modkit/modnet] decides where a module is fetched from
//     exactly as the go command does (GOPROXY, GONOPROXY, GOPRIVATE, GOSUMDB,
//     GOINSECURE, GOVCS, GOAUTH), downloads and verifies modules and writes the
//     module cache in the go command's layout. Beside it:
//     [github.com/modkit/modkit/modnet/modload] (go.mod, go.work and the
//     module graph), [github.com/modkit/modkit/modnet/vcs] (import path to
//     repository), [github.com/modkit/modkit/modnet/modproxy] (the GOPROXY
//     server) and [github.com/modkit/modkit/modnet/modnettest] (a proxy for
//     tests).
//   - [github.com/modkit/modkit/retry] performs resilient GET requests: classified
//     errors, full-jitter backoff, capped Retry-After, a retry budget, a stall
//     timeout and mid-body resume.
//   - [github.com/modkit/modkit/envcheck] is the doctor for a machine's module
//     environment, with static checks and live probes.
//   - [github.com/modkit/modkit/analyzer] is the modreplace analyzer, which
//     reports risky replace directives in go.mod, under go vet or standalone.
//
// Commands live beside the package they serve: modnet/cmd/modfetch,
// envcheck/cmd/moddoctor and analyzer/cmd/modreplace.
package modkit
