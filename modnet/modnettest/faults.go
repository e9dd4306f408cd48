package modnettest

import (
	"encoding/binary"
	"hash/fnv"
	"path"
	"strconv"
	"time"

	"golang.org/x/mod/module"
)

// A FaultKind names a way the server misbehaves for one request.
type FaultKind string

// The faults a [Server] can inject.
const (
	// NoFault answers normally.
	NoFault FaultKind = ""
	// FaultReset reads the request and then resets the connection (TCP RST,
	// by closing it with SO_LINGER 0) without answering: the client sees
	// ECONNRESET.
	FaultReset FaultKind = "reset"
	// FaultStatus answers Fault.Status with a short text body, and a
	// Retry-After header when Fault.RetryAfter is set.
	FaultStatus FaultKind = "status"
	// FaultBody answers Fault.Status (200 if zero) with Fault.Body instead of
	// the real content, for empty or malformed answers.
	FaultBody FaultKind = "body"
	// FaultCut declares the full Content-Length, sends Fault.After body bytes
	// and closes the connection: the client sees an unexpected EOF. Like
	// FaultStallBody, it acts on answers with a body of known length: module
	// files and checksum database answers.
	FaultCut FaultKind = "cut"
	// FaultStall accepts the request and sends nothing for Fault.Duration,
	// then answers normally; a zero Duration stalls until the client gives up
	// or the server closes.
	FaultStall FaultKind = "stall"
	// FaultStallBody sends the headers and Fault.After body bytes, then
	// stalls like FaultStall before sending the rest.
	FaultStallBody FaultKind = "stall-body"
	// FaultDelay waits Fault.Duration before answering normally: a slow
	// response rather than a hang.
	FaultDelay FaultKind = "delay"
	// FaultCorrupt answers with the real length but flips the bits of one
	// byte in the middle of the content, so hashes no longer match. It acts
	// on module files and checksum database answers, not on error pages.
	FaultCorrupt FaultKind = "corrupt"
	// FaultTrickle answers normally but sends the body at Fault.Bandwidth
	// bytes per second: a slow answer rather than a stalled one.
	FaultTrickle FaultKind = "trickle"
)

// Half, as Fault.After, sends half of the response body before a cut or a
// stall.
const Half = -1

// A Fault is what the server does to one request instead of (or while)
// answering it.
type Fault struct {
	Kind FaultKind
	// Status is the status code of FaultStatus and FaultBody.
	Status int
	// RetryAfter, if non-empty, is sent verbatim as the Retry-After header
	// of FaultStatus: delay-seconds ("2") or an HTTP-date.
	RetryAfter string
	// Body is the response body of FaultBody.
	Body string
	// After is how many body bytes FaultCut and FaultStallBody send first;
	// Half means half of the body. At least one byte of a non-empty body is
	// always withheld.
	After int64
	// Duration is how long FaultStall and FaultStallBody stall (zero: until
	// the client or the server gives up) and how long FaultDelay waits.
	Duration time.Duration
	// Bandwidth is FaultTrickle's rate, in bytes per second.
	Bandwidth int64
}

// Reset returns a FaultReset fault.
func Reset() Fault { return Fault{Kind: FaultReset} }

// Status returns a fault answering code, for example 403, 404, 410 or 500.
func Status(code int) Fault { return Fault{Kind: FaultStatus, Status: code} }

// RetryAfter returns a fault answering code (429 or 503) with a Retry-After
// header of d in whole seconds, rounded up.
func RetryAfter(code int, d time.Duration) Fault {
	secs := int64((d + time.Second - 1) / time.Second)
	return Fault{Kind: FaultStatus, Status: code, RetryAfter: strconv.FormatInt(secs, 10)}
}

// Cut returns a fault that sends after body bytes (or Half) and closes the
// connection.
func Cut(after int64) Fault { return Fault{Kind: FaultCut, After: after} }

// Stall returns a fault that sends nothing for d (zero: until the client or
// the server gives up).
func Stall(d time.Duration) Fault { return Fault{Kind: FaultStall, Duration: d} }

// StallBody returns a fault that sends after body bytes (or Half) and then
// stalls for d (zero: until the client or the server gives up).
func StallBody(after int64, d time.Duration) Fault {
	return Fault{Kind: FaultStallBody, After: after, Duration: d}
}

// Delay returns a fault that answers normally after d.
func Delay(d time.Duration) Fault { return Fault{Kind: FaultDelay, Duration: d} }

// Corrupt returns a fault that flips one byte of the body.
func Corrupt() Fault { return Fault{Kind: FaultCorrupt} }

// Trickle returns a fault that sends the body at bytesPerSecond.
func Trickle(bytesPerSecond int64) Fault { return Fault{Kind: FaultTrickle, Bandwidth: bytesPerSecond} }

// Body returns a fault that answers 200 with body instead of the real content.
func Body(body string) Fault { return Fault{Kind: FaultBody, Status: 200, Body: body} }

// A Rule injects a fault into every request it matches, or into the first
// few of them.
type Rule struct {
	// Module is a comma-separated list of glob patterns matched against the
	// module path with module.MatchPrefixPatterns, as GOPRIVATE is: a pattern
	// matches a path and everything under it. Empty matches every request,
	// including checksum database requests that name no module.
	Module string
	// Path, if non-empty, is a path.Match pattern the URL path must match,
	// for example "/sumdb/*/supported" or "/example.com/m/@v/*.zip". The
	// path is matched as requested, case-escaped.
	Path string
	// Version, if non-empty, must equal the requested version.
	Version string
	// Kind, if non-empty, must equal the kind of file requested.
	Kind FileKind
	// First, if positive, limits the rule to the first First requests for
	// each URL path (counted since SetFaults): later requests pass through.
	// Zero applies the rule to every matching request, permanently.
	First int
	// Fault is what the server does.
	Fault Fault
}

func (r *Rule) matches(urlPath string, t target, n int) bool {
	if r.Module != "" && (t.module == "" || !module.MatchPrefixPatterns(r.Module, t.module)) {
		return false
	}
	if r.Path != "" {
		if ok, _ := path.Match(r.Path, urlPath); !ok {
			return false
		}
	}
	if r.Version != "" && r.Version != t.version {
		return false
	}
	if r.Kind != "" && r.Kind != t.kind {
		return false
	}
	return r.First <= 0 || n < r.First
}

// A Chance is one entry of a seeded fault mix: the probability that a request
// gets Fault.
type Chance struct {
	// Rate is the probability, between 0 and 1.
	Rate float64
	// Kind, if non-empty, limits the chance to requests for this kind of file.
	Kind FileKind
	// First, if positive, makes the chance one per file rather than one
	// per request: a file drawn (with its first request's draw) gets Fault
	// on each of its first First requests, and the later ones pass, like
	// a faulty cache that keeps serving a bad copy for a while.
	First int
	// Fault is what the server does.
	Fault Fault
}

// Faults configures how a [Server] misbehaves. The zero value injects
// nothing.
//
// NoRange makes the server ignore Range requests, answering every one
// with the whole body (200), as servers without range support do: a
// client resuming a cut download must then start over.
//
// For each request the server takes the first matching Rule; if none
// matches, it draws from Mix. The draw is a hash of Seed, the URL path and
// how many requests for that path came before, so the n-th request for a
// given file gets the same fault in every run, however requests for
// different files interleave.
type Faults struct {
	// Rules are checked in order; the first match wins.
	Rules []Rule
	// Seed seeds the mix.
	Seed uint64
	// Mix lists chances; their rates add up to at most 1.
	Mix []Chance
	// Latency delays every answer's headers, as a network round trip would.
	Latency time.Duration
	// Bandwidth, if positive, limits each response body to this many bytes
	// per second, written in chunks with a pause after each.
	Bandwidth int64
	// NoRange ignores Range headers (see above).
	NoRange bool
}

// StandardMix returns the fault mix modkit's resilience targets are stated
// against, 10% connection resets, 5% 503, 5% 429, 5% cuts half-way through
// the body and 1% stalls of 60 seconds, with one addition that makes it
// stricter: the 503s and 429s carry Retry-After: 1, so a client that
// honours it waits a second for each of them. Clear Fault.RetryAfter in
// Mix for throttling answers that leave the wait to the client.
func StandardMix(seed uint64) Faults {
	return Faults{
		Seed: seed,
		Mix: []Chance{
			{Rate: 0.10, Fault: Reset()},
			{Rate: 0.05, Fault: RetryAfter(503, time.Second)},
			{Rate: 0.05, Fault: RetryAfter(429, time.Second)},
			{Rate: 0.05, Fault: Cut(Half)},
			{Rate: 0.01, Fault: Stall(60 * time.Second)},
		},
	}
}

// decide returns the fault for the n-th request (from 0) for urlPath.
func (f *Faults) decide(urlPath string, t target, n int) Fault {
	for i := range f.Rules {
		if f.Rules[i].matches(urlPath, t, n) {
			return f.Rules[i].Fault
		}
	}
	if len(f.Mix) == 0 {
		return Fault{}
	}
	u, first := draw(f.Seed, urlPath, n), draw(f.Seed, urlPath, 0)
	sum := 0.0
	for _, c := range f.Mix {
		if c.Kind != "" && c.Kind != t.kind {
			continue
		}
		lo := sum
		sum += c.Rate
		if c.First > 0 {
			// Drawn once per file; its later requests up to First stay in.
			if n < c.First && first >= lo && first < sum {
				return c.Fault
			}
			continue
		}
		if u >= lo && u < sum {
			return c.Fault
		}
	}
	return Fault{}
}

// draw returns a number in [0, 1) that depends only on its arguments.
func draw(seed uint64, urlPath string, n int) float64 {
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], seed)
	binary.LittleEndian.PutUint64(b[8:], uint64(n))
	h.Write(b[:])
	h.Write([]byte(urlPath))
	// FNV's high bits mix poorly; the splitmix64 finalizer spreads them.
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}
