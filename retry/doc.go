// Package retry sends GET and HEAD requests that survive the failures of
// real networks: refused and reset connections, throttling, truncated
// bodies, HTTP/2 stream resets and stalls. It is the layer under modkit's
// module downloads, where the go command itself gives up on the first
// transient error. It knows nothing of modules or proxies and never decides
// what to fetch or where from: that is modnet's route walk.
//
// # What is retried, and why
//
// [Classify] sorts every failure into a [Class]. Transient classes are
// retried: refused, reset and unreachable connections, other network
// errors, timeouts (dial, TLS handshake, response headers, body stall,
// HTTP 408), temporary DNS failures, HTTP 429 and 503 (throttled), other
// 5xx except 501, truncated bodies and HTTP/2 stream or connection resets.
// Answers that would only repeat themselves are not: a host that does not
// exist, TLS and certificate failures, 404 and 410 (which match
// fs.ErrNotExist, so GOPROXY fallback works as in the go command), other
// 4xx, 501, refused redirects and the caller's own cancellation.
// Only GET and HEAD are retried; other methods are sent once.
//
// Before each retry the Client waits a random delay in
// [0, min(MaxDelay, BaseDelay·2^n)] ("full jitter"), with a longer base
// after throttling (with AdaptiveBackoff, from a host failing broadly), or exactly the server's Retry-After (seconds or any
// HTTP-date form) if that is at most RetryAfterMax. It never sleeps past
// the context's deadline: if the next attempt would start after it, the
// last error is returned at once. A per-host [Budget] makes retries cost
// tokens that only successes earn back, so a failing host cannot multiply
// the load it receives.
//
// Each attempt has its own limits instead of one overall timeout: dial,
// TLS handshake and response-header timeouts, and a stall timeout on body
// reads (no progress for StallTimeout, or, with StallTimeoutMin, for a
// limit adapted to the host's observed throughput). A GET whose headers
// are late compared with the host's observed latency is hedged: sent a
// second time, with the first answer winning, and once more if that hedge
// fails while the late request is still out. [Client.Download] resumes a body cut
// mid-way with a Range request, validating the answer, and
// [Client.GetBytes] retries body failures of small answers.
//
// # Relation to go-retryablehttp
//
// The request loop is github.com/hashicorp/go-retryablehttp's; this
// package supplies its CheckRetry, Backoff, ErrorHandler, PrepareRetry and
// RequestLogHook, silences its logger, and keeps retrying at that one
// layer: the Transport below sends single attempts (or a hedged pair) and
// the body handlers report failures back into the same loop, so nothing is
// retried twice. Compared with go-retryablehttp's defaults (NewClient with
// DefaultRetryPolicy and DefaultBackoff):
//
//   - backoff is jittered; the default there is plain exponential from 1s,
//     so clients that failed together retry together;
//   - Retry-After is capped by RetryAfterMax instead of obeyed however
//     long, and read in all three HTTP-date forms, not only RFC 1123;
//   - failures are classified, by type where possible: go-retryablehttp
//     retries every transport error except a few it recognises
//     (certificate verification, redirect limit, bad scheme or header),
//     so it retries a host that does not exist, a TLS alert or an HTTP
//     server on an HTTPS port, which are not retried here;
//   - failures while reading the body are retried, and downloads resumed
//     mid-body, where go-retryablehttp stops once headers arrive;
//   - retries are limited by a per-host budget as well as a count, slow
//     answers are hedged, and no attempt outlives its own limits;
//   - nothing is logged unless a Logger is set (the default there logs
//     every request to standard error).
//
// # Switching it off
//
// Client.Disabled makes a Client behave like the go command's plain
// http.Client: one attempt, no resume, no hedging, no per-attempt
// timeouts beyond the Transport's own.
package retry
