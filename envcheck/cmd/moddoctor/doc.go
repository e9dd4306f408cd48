// Moddoctor diagnoses the Go module environment of this machine: settings
// that break or leak module downloads, where each bad value came from, and
// the exact fix; then, unless -offline, whether the module proxies, the
// checksum database, the HTTPS proxy and their certificates are reachable
// and sane. It changes nothing: the fixes are printed for you to apply.
//
// Usage:
//
//	moddoctor [-json] [-offline] [-v] [-timeout D] [-check ID]...
//
// The flags are:
//
//	-json     print one JSON object: {"checks":[{"id","status","summary",
//	          "details","fix","duration_ms"}],"errors":N,"warnings":N}
//	-offline  skip the live probes (no network use at all)
//	-v        also print the details of passing checks, and durations
//	-timeout  overall deadline (default 5s); each check gets at most 2s
//	-check    run only this check, or every check of an area such as "tls";
//	          repeatable
//
// The text report groups checks by area and marks each with ✓ (ok),
// i (info), ! (warning), ✗ (error) or - (skipped), with fixes indented
// beneath. The check in the current directory's module reads its go.mod.
//
// Exit status: 0 when no check reports an error (warnings never fail, so
// moddoctor can gate CI), 1 when one does, 2 for usage errors.
package main
