// Package retry sends GET and HEAD requests that survive the failures of
// real networks: refused and reset connections, throttling, truncated
// bodies, HTTP/2 stream resets and stalls. It is the layer under modkit's
// module downloads, where the go command itself gives up on the first
// transient error.
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
// after throttling, or exactly the server's Retry-After (seconds or any
// HTTP-date form) if that is at most RetryAfterMax. It never sleeps past
// the context's deadline: if the next attempt would start after it, the
// last error is returned at once. A per-host [Budget] makes retries cost
// tokens that only successes earn back, so a failing host cannot multiply
// the load it receives.
//
// Each attempt has its own limits instead of one overall timeout: dial,
// TLS handshake and response-header timeouts, and a stall timeout on body
// reads (no progress for StallTimeout). A GET whose headers are late
// compared with the host's observed latency is hedged: sent a second time,
// with the first answer winning. [Client.Download] resumes a body cut
// mid-way with a Range request, validating the answer, and
// [Client.GetBytes] retries body failures of small answers.
//
// # Relation to go-retryablehttp
//
// The request loop is github.com/hashicorp/go-retryablehttp's; this
// package supplies its CheckRetry, Backoff, ErrorHandler, PrepareRetry and
// RequestLogHook, silences its logger, and keeps retrying at that one
// layer: the Transport below sends single attempts and the body handlers
// report failures back into the same loop. It differs from
// go-retryablehttp's defaults in that backoff is jittered (the default
// there is plain exponential, so clients retry in lockstep), Retry-After is
// capped instead of obeyed however long, Retry-After is read for 503 as
// well as 429 in every date form, TLS and DNS-not-found failures are
// recognised by type, failures while reading the body are retried (and
// downloads resumed) rather than left to the caller, and retries are
// limited by a budget as well as a count.
//
// # Switching it off
//
// Client.Disabled makes a Client behave like the go command's plain
// http.Client: one attempt, no resume, no hedging, no per-attempt
// timeouts beyond the Transport's own.
package retry
