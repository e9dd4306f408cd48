package retry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/modkit/modkit/internal/web"
)

// Client sends GET and HEAD requests that survive transient failures. Its
// zero value is ready to use; the fields are knobs with documented
// defaults, read once on first use and not to be changed afterwards. A
// Client is safe for concurrent use and should be reused, because it holds
// the connection pool, the per-host latency estimates and (by default) the
// retry budget.
type Client struct {
	// Transport sends single requests. nil means a clone of
	// http.DefaultTransport (so HTTPS_PROXY, HTTP_PROXY and NO_PROXY are
	// honoured through http.ProxyFromEnvironment, which reads them once)
	// with DialTimeout and TLSHandshakeTimeout applied. A Transport that
	// retries by itself would multiply attempts; don't use one.
	Transport http.RoundTripper

	// CheckRedirect is the redirect policy, as in http.Client. nil is the
	// go command's: at most 10 redirects, and none from https to another
	// scheme, which would carry what was meant for a secure server in
	// clear. Errors it returns (other than http.ErrUseLastResponse) are
	// never retried.
	CheckRedirect func(req *http.Request, via []*http.Request) error

	// Disabled makes the Client behave like the go command's plain
	// http.Client: one attempt per request, no resumes, no hedging, no
	// budget, and no response-header or stall timeouts. DialTimeout and
	// TLSHandshakeTimeout still apply to the default Transport.
	Disabled bool

	// MaxAttempts is the most attempts made in a row without progress;
	// 0 means 5 and 1 means no retries. An attempt that delivered part
	// of a download's body is progress, so resuming does not use up
	// attempts (MaxResumes limits resumes).
	MaxAttempts int

	// BaseDelay and MaxDelay shape the backoff before retry n (from 0):
	// a uniformly random delay in [0, min(MaxDelay, BaseDelay·2^n)].
	// Defaults: 250ms and 8s.
	BaseDelay, MaxDelay time.Duration

	// AdaptiveBackoff makes the backoff follow the host rather than the
	// request alone: the exponent n above grows past 1, and a 429 or 503
	// without Retry-After waits from ThrottleBaseDelay, only while the
	// host is struggling, that is while most of its recent attempts (a
	// moving average over about the last twenty) failed; a host not heard
	// from yet counts as struggling from its first failure. Sporadic
	// failures of a host that answers most requests, throttling answers
	// included, are then retried after at most 2·BaseDelay, and a host
	// that fails broadly is backed off exponentially from
	// ThrottleBaseDelay as before. For bulk jobs against one proxy, where
	// one unlucky request should not hold up the whole job.
	//
	// It stays polite: a server that states a wait with Retry-After gets
	// exactly that wait, a host whose failures become the majority gets
	// the full throttle backoff within a few attempts, concurrency is
	// whatever the caller allows, and the Budget bounds the extra requests
	// to the host however they are spaced.
	AdaptiveBackoff bool

	// ThrottleBaseDelay replaces BaseDelay after a 429 or 503 that has
	// no usable Retry-After, because a throttling server wants a longer
	// pause than a flaky connection (with AdaptiveBackoff, only while the
	// host is struggling). Default: 1s.
	ThrottleBaseDelay time.Duration

	// RetryAfterMax is the longest Retry-After honoured. A server asking
	// for longer makes the request fail at once with an error matching
	// ErrRetryAfterTooLong, so the caller can use another source instead
	// of sleeping. Default: 30s.
	RetryAfterMax time.Duration

	// Budget limits retries per host. nil means a budget private to this
	// Client with the Budget defaults; share one *Budget between Clients
	// that talk to the same hosts.
	Budget *Budget

	// DialTimeout and TLSHandshakeTimeout apply to the default Transport
	// only. Defaults: 30s and 10s, those of http.DefaultTransport.
	DialTimeout, TLSHandshakeTimeout time.Duration

	// ResponseHeaderTimeout limits each attempt from its start
	// (connecting included, so that it works with any Transport) until
	// its response headers arrive; it is the backstop behind hedging.
	// Default: 60s, since a module proxy may have to fetch a module from
	// its origin before answering. Negative means no limit.
	ResponseHeaderTimeout time.Duration

	// StallTimeout fails a body read that delivers nothing for this long,
	// on every response body the Client returns. Default: 30s. Negative
	// means no limit. There is never an overall timeout: a large download
	// that keeps making progress is not interrupted.
	StallTimeout time.Duration

	// StallTimeoutMin, if positive, makes the stall timeout adapt to each
	// host's observed throughput: a body read may then deliver nothing
	// for four times the host's recent gap between arriving data
	// (srtt+4·rttvar of the time reads block, as for hedging), but at
	// least StallTimeoutMin and at most StallTimeout. A fast host that
	// goes silent is then given up on (and the download resumed) in
	// seconds, while a host known to pause between bursts keeps its
	// longer allowance. Before the host has delivered any data the limit
	// is StallTimeout. Zero keeps the fixed StallTimeout.
	StallTimeoutMin time.Duration

	// MaxResumes limits how often Download resumes one body with a Range
	// request. Default: 10. Negative means never resume: a failure after
	// part of the body arrived is then final.
	MaxResumes int

	// HedgeDisabled turns hedging off. Otherwise a GET or HEAD whose
	// response headers are late is sent a second time; the first answer
	// wins and the other request is canceled ("The Tail at Scale",
	// Dean and Barroso). Late means later than srtt+4·rttvar of the
	// host's recent times to first byte (the RFC 6298 retransmission
	// timeout estimate), at least HedgeMinDelay and at most
	// ResponseHeaderTimeout. Before a host has answered, the hedge waits
	// 2·HedgeMinDelay. Each hedge costs a retry from the Budget.
	//
	// Download also hedges a slow body, into a destination that is an
	// io.WriterAt: once a body of known size, however small, has run for
	// as long as makes response headers late (the delay above) at less
	// than a tenth of the throughput the host's bodies of 64 KiB or more
	// have recently had (a trickle, which never trips the stall timeout),
	// and a second request (the host's usual time to first byte, then the
	// rest at its usual throughput) would take less than half as long as
	// the rest at the current pace, a second request asks for the rest
	// with Range (a server without ranges sends the whole body again),
	// both copies write the same bytes at the same offsets, and the first
	// to reach the end wins; the other is canceled. A hedge that proves
	// slow in turn is replaced by another; at most two such hedges per
	// download, each paid from the Budget.
	HedgeDisabled bool

	// HedgeMinDelay is the shortest wait before hedging. Default: 1s.
	HedgeMinDelay time.Duration

	// Rand draws the backoff jitter; nil uses math/rand/v2's global
	// source. The Client serialises its calls, so a seeded *rand.Rand
	// gives a deterministic schedule (time itself is taken from the time
	// package, which testing/synctest controls).
	Rand *rand.Rand

	// Hooks, called synchronously on the requesting goroutine (and so
	// concurrently when the Client is shared). Events carry the redacted
	// URL, never headers.
	OnAttempt func(Event)  // before each attempt
	OnRetry   func(Event)  // a retry is scheduled: Delay, Class, StatusCode, Err
	OnResume  func(Event)  // a download resumes at Offset
	OnHedge   func(Event)  // a hedge request was sent after Delay (for a slow body, from Offset)
	OnGiveUp  func(*Error) // a retryable failure is final

	// Logger receives the same events at Debug (attempt), Info (retry,
	// resume, hedge) and Warn (give up). nil means silent.
	Logger *slog.Logger

	once          sync.Once
	hc            *http.Client
	base          http.RoundTripper
	rnd           lockedRand
	budget        *Budget
	latency       sync.Map // host → *latency
	health        sync.Map // host → *health
	maxAttempts   int
	maxResumes    int
	baseDelay     time.Duration
	maxDelay      time.Duration
	throttleBase  time.Duration
	retryAfterMax time.Duration
	headerTimeout time.Duration
	stallTimeout  time.Duration
	stallMin      time.Duration
	gaps          sync.Map // host → *latency of body reads
	rates         sync.Map // host → *throughput of bodies
	hedgeMin      time.Duration
}

// Event describes one step of a request for the hooks. Fields that do not
// apply to a hook are zero.
type Event struct {
	Method     string
	URL        string        // user information redacted
	Attempt    int           // 1-based number of the attempt concerned
	Resumes    int           // resumes so far
	Offset     int64         // OnResume, and OnHedge for a slow body: the byte offset the Range request asks for
	Class      Class         // OnRetry: why the attempt failed
	StatusCode int           // OnRetry: the failed attempt's status, if it had a response
	Delay      time.Duration // OnRetry: wait before the next attempt; OnHedge: how late the first request was
	Err        error         // OnRetry: the failure, if it was not an HTTP status
}

func durationOr(v, def time.Duration) time.Duration {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

func (c *Client) init() {
	c.once.Do(func() {
		c.maxAttempts = max(orDefault(c.MaxAttempts, 5), 1)
		c.maxResumes = max(orDefault(c.MaxResumes, 10), 0)
		c.baseDelay = durationOr(c.BaseDelay, 250*time.Millisecond)
		c.maxDelay = durationOr(c.MaxDelay, 8*time.Second)
		c.throttleBase = durationOr(c.ThrottleBaseDelay, time.Second)
		c.retryAfterMax = durationOr(c.RetryAfterMax, 30*time.Second)
		c.headerTimeout = durationOr(c.ResponseHeaderTimeout, 60*time.Second)
		c.stallTimeout = durationOr(c.StallTimeout, 30*time.Second)
		if c.StallTimeoutMin > 0 && c.stallTimeout > 0 {
			c.stallMin = min(c.StallTimeoutMin, c.stallTimeout)
		}
		c.hedgeMin = durationOr(c.HedgeMinDelay, time.Second)
		c.rnd.r = c.Rand
		c.budget = c.Budget
		if c.budget == nil {
			c.budget = new(Budget)
		}
		c.base = c.Transport
		if c.base == nil {
			c.base = defaultTransport(durationOr(c.DialTimeout, 30*time.Second),
				durationOr(c.TLSHandshakeTimeout, 10*time.Second))
		}
		rt := c.base
		if !c.Disabled {
			rt = &transport{c: c, base: c.base}
		}
		c.hc = &http.Client{Transport: rt, CheckRedirect: c.checkRedirect}
	})
}

func defaultTransport(dial, handshake time.Duration) http.RoundTripper {
	if t := NewTransport(dial, handshake); t != nil {
		return t
	}
	return http.DefaultTransport
}

// NewTransport returns the Transport a Client uses when its Transport field
// is nil: a clone of http.DefaultTransport (proxies from the environment,
// HTTP/2, connection pooling) with the given dial and TLS handshake
// timeouts; 0 means the Client defaults of 30s and 10s. It returns nil if
// http.DefaultTransport has been replaced by something other than an
// *http.Transport. Callers wrap it to add behaviour below the retry loop,
// such as credentials that must be applied to every attempt.
func NewTransport(dialTimeout, tlsHandshakeTimeout time.Duration) *http.Transport {
	dt, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return nil
	}
	t := dt.Clone()
	t.DialContext = (&net.Dialer{Timeout: durationOr(dialTimeout, 30*time.Second), KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = durationOr(tlsHandshakeTimeout, 10*time.Second)
	return t
}

// Clone returns a new Client with the same knobs, hooks, Budget and Rand
// as c but none of its state (connections, latency estimates), for a
// caller that needs to adjust a knob such as Transport or CheckRedirect on
// a Client it was given.
func (c *Client) Clone() *Client {
	return &Client{
		Transport: c.Transport, CheckRedirect: c.CheckRedirect, Disabled: c.Disabled,
		MaxAttempts: c.MaxAttempts, BaseDelay: c.BaseDelay, MaxDelay: c.MaxDelay, AdaptiveBackoff: c.AdaptiveBackoff,
		ThrottleBaseDelay: c.ThrottleBaseDelay, RetryAfterMax: c.RetryAfterMax, Budget: c.Budget,
		DialTimeout: c.DialTimeout, TLSHandshakeTimeout: c.TLSHandshakeTimeout,
		ResponseHeaderTimeout: c.ResponseHeaderTimeout, StallTimeout: c.StallTimeout, StallTimeoutMin: c.StallTimeoutMin,
		MaxResumes: c.MaxResumes, HedgeDisabled: c.HedgeDisabled, HedgeMinDelay: c.HedgeMinDelay,
		Rand: c.Rand, OnAttempt: c.OnAttempt, OnRetry: c.OnRetry, OnResume: c.OnResume,
		OnHedge: c.OnHedge, OnGiveUp: c.OnGiveUp, Logger: c.Logger,
	}
}

// Attempts returns the most attempts the Client makes at one request
// without progress: MaxAttempts or its default, 1 when Disabled. Callers
// that repeat a request after a failure the Client cannot see, such as a
// body that fails the caller's verification, stay within it.
func (c *Client) Attempts() int {
	c.init()
	if c.Disabled {
		return 1
	}
	return c.maxAttempts
}

// checkRedirect applies the caller's policy (or the go command's,
// web.CheckRedirect) and marks refusals as final.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	var err error
	if c.CheckRedirect != nil {
		err = c.CheckRedirect(req, via)
	} else {
		err = web.CheckRedirect(req, via)
	}
	if err != nil && err != http.ErrUseLastResponse {
		return &redirectError{err}
	}
	return err
}

// CloseIdleConnections closes the idle connections of the Transport, if it
// has that method. Call it when done with a Client that owns its
// Transport.
func (c *Client) CloseIdleConnections() {
	c.init()
	if ci, ok := c.base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// Do sends req and returns its response, as http.Client.Do does, retrying
// GET and HEAD requests (after transport failures, 408, 429 and 5xx except
// 501) until response headers arrive; the body is the caller's to read and
// close, subject to StallTimeout. Other methods are sent exactly once,
// because they may not be idempotent.
//
// Whenever a response arrives, Do returns it, whatever its status, even a
// 503 after the last retry: callers such as go-get discovery read error
// pages too. Classify(ctx, nil, resp) tells what a status means. Do
// returns a *Error when no response arrived.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	c.init()
	k := c.newCall(req)
	resp, err := k.run(req, nil, nil)
	if err != nil {
		return nil, err
	}
	if classifyStatus(resp.StatusCode).Retryable() {
		k.giveUp(k.newError(newStatusError(resp), resp))
	} else {
		k.succeed()
	}
	return resp, nil
}

// call is the state of one Do, GetBytes or Download across its attempts.
type call struct {
	c      *Client
	ctx    context.Context
	method string
	url    string // redacted
	host   string
	start  time.Time

	attempts   int
	failures   int  // consecutive attempts that failed without progress
	resumes    int  // Range requests sent
	progressed bool // the current attempt delivered body bytes
	lastCost   int  // tokens the latest retry cost, refunded on success
	delay      time.Duration
	last       error      // the latest retryable failure
	stop       *stopError // why a retryable failure was not retried

	// resumeOffset, set by Download, reports where the next attempt
	// would resume (0: from the start).
	resumeOffset func() int64
}

func (c *Client) newCall(req *http.Request) *call {
	m := req.Method
	if m == "" {
		m = http.MethodGet
	}
	return &call{
		c:      c,
		ctx:    req.Context(),
		method: m,
		url:    web.RedactURL(req.URL),
		host:   req.URL.Host,
		start:  time.Now(),
	}
}

func (k *call) retries() bool {
	return !k.c.Disabled && (k.method == http.MethodGet || k.method == http.MethodHead)
}

// run sends req with retries through go-retryablehttp, which owns the loop:
// this package only supplies its policy (checkRetry, backoff), its error
// handler and its hooks, and the Transport below it sends single attempts.
// handler, if not nil, consumes a final response's body; an error it
// returns is a failed attempt like any other. prepare adjusts a request
// before each retry.
func (k *call) run(req *http.Request, handler func(*http.Response) error, prepare func(*http.Request) error) (*http.Response, error) {
	if !k.retries() {
		k.attempts = 1
		k.onAttempt(req)
		resp, err := k.c.hc.Do(req)
		if err == nil && handler != nil {
			if err = handler(resp); err != nil {
				resp.Body.Close()
			}
		}
		if err != nil {
			return nil, k.fail(err)
		}
		return resp, nil
	}
	rreq, err := retryablehttp.FromRequest(req)
	if err != nil {
		return nil, k.fail(err)
	}
	if handler != nil {
		rreq.SetResponseHandler(handler)
	}
	rc := &retryablehttp.Client{
		HTTPClient: k.c.hc,
		Logger:     nil, // silent: this package reports through its hooks and Logger
		RetryMax:   math.MaxInt32,
		CheckRetry: k.checkRetry,
		Backoff: func(_, _ time.Duration, _ int, _ *http.Response) time.Duration {
			return k.delay
		},
		ErrorHandler: func(resp *http.Response, err error, _ int) (*http.Response, error) {
			if resp != nil && resp.Body != nil {
				resp.Body.Close()
			}
			return nil, k.fail(err)
		},
		RequestLogHook: func(_ retryablehttp.Logger, r *http.Request, i int) {
			k.attempts = i + 1
			k.onAttempt(r)
		},
		PrepareRetry: prepare,
	}
	resp, err := rc.Do(rreq)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			// go-retryablehttp returns the context's error directly
			// when canceled while waiting to retry.
			e = k.fail(err)
		}
		return nil, e
	}
	return resp, nil
}

// checkRetry is go-retryablehttp's CheckRetry: it classifies the attempt's
// outcome and decides whether, and after what delay, to try again.
func (k *call) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, nil
	}
	class := Classify(ctx, err, resp)
	var restart *restartError
	forced := errors.As(err, &restart)
	if k.c.AdaptiveBackoff {
		k.c.healthFor(k.host).observe(class.Retryable() || forced)
	}
	if !class.Retryable() && !forced {
		return false, nil
	}
	status := 0
	if err == nil && resp != nil {
		status = resp.StatusCode
		k.last = newStatusError(resp)
	} else {
		k.last = causeOf(err)
	}
	if k.progressed {
		k.failures = 0
		k.progressed = false
	}
	k.failures++
	if k.failures >= k.c.maxAttempts {
		return false, nil
	}
	if k.resumeOffset != nil && k.resumeOffset() > 0 && k.resumes >= k.c.maxResumes {
		reason := fmt.Sprintf("resumed %d times already (MaxResumes)", k.resumes)
		if k.c.maxResumes == 0 {
			reason = "resuming is off (MaxResumes < 0)"
		}
		k.stop = &stopError{reason: reason, last: k.last}
		return false, nil
	}

	base, n := k.c.baseDelay, k.failures-1
	if k.c.AdaptiveBackoff && !k.c.healthFor(k.host).struggling() {
		// A sporadic failure of a host that answers most requests, a 429
		// or 503 included: see AdaptiveBackoff.
		n = min(n, 1)
	} else if class == Throttled {
		base = k.c.throttleBase
	}
	delay := fullJitter(k.c.rnd.int64N, base, k.c.maxDelay, n)
	if class == Throttled && resp != nil {
		if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			if ra > k.c.retryAfterMax {
				k.stop = &stopError{
					reason: fmt.Sprintf("server asked to retry after %v, more than RetryAfterMax (%v)", ra, k.c.retryAfterMax),
					kind:   ErrRetryAfterTooLong,
					last:   k.last,
				}
				return false, nil
			}
			delay = ra
		}
	}
	if forced {
		delay = 0
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Add(delay).Before(dl) {
		k.stop = &stopError{reason: fmt.Sprintf("the next attempt, in %v, would start after the context deadline", delay.Round(time.Millisecond)), last: k.last}
		return false, nil
	}
	cost := k.c.budget.cost(class)
	if !k.c.budget.take(k.host, cost) {
		k.stop = &stopError{reason: fmt.Sprintf("%v for %s", ErrBudgetExhausted, k.host), kind: ErrBudgetExhausted, last: k.last}
		return false, nil
	}
	k.lastCost = cost
	k.delay = delay
	ev := k.event()
	ev.Class, ev.StatusCode, ev.Delay = class, status, delay
	if status == 0 {
		ev.Err = k.last
	}
	if k.c.OnRetry != nil {
		k.c.OnRetry(ev)
	}
	if l := k.c.Logger; l != nil {
		l.LogAttrs(ctx, slog.LevelInfo, "retrying", append(k.attrs(),
			slog.String("class", class.String()), slog.Int("status", status),
			slog.Duration("delay", delay), slog.Any("err", k.last))...)
	}
	return true, nil
}

func (k *call) event() Event {
	return Event{Method: k.method, URL: k.url, Attempt: k.attempts, Resumes: k.resumes}
}

func (k *call) attrs() []slog.Attr {
	return []slog.Attr{slog.String("method", k.method), slog.String("url", k.url), slog.Int("attempt", k.attempts)}
}

func (k *call) onAttempt(*http.Request) {
	if k.c.OnAttempt != nil {
		k.c.OnAttempt(k.event())
	}
	if l := k.c.Logger; l != nil {
		l.LogAttrs(k.ctx, slog.LevelDebug, "attempt", k.attrs()...)
	}
}

// newError describes the failure cause (with resp, if it was a status).
func (k *call) newError(cause error, resp *http.Response) *Error {
	e := &Error{
		Method:   k.method,
		URL:      k.url,
		Attempts: k.attempts,
		Resumes:  k.resumes,
		Elapsed:  time.Since(k.start),
		Err:      cause,
	}
	if resp != nil {
		e.StatusCode, e.Status = resp.StatusCode, resp.Status
		e.Class = Classify(k.ctx, nil, resp)
	} else {
		e.Class = Classify(k.ctx, cause, nil)
	}
	if k.stop != nil && e.Class != Canceled {
		k.stop.last = cause
		e.Err = k.stop
		if k.stop.kind == ErrBudgetExhausted {
			e.Class = BudgetExhausted
		}
	}
	return e
}

// fail turns the final error of a call into a *Error and reports it.
func (k *call) fail(err error) *Error {
	cause := causeOf(err)
	if k.ctx.Err() != nil && k.last != nil && !errors.Is(cause, k.last) {
		// Say what went wrong before the caller gave up waiting.
		cause = &stopError{reason: cause.Error(), kind: cause, last: k.last}
	}
	e := k.newError(cause, nil)
	k.giveUp(e)
	return e
}

// statusFailure reports a final error status, with the server's
// explanation from the body.
func (k *call) statusFailure(resp *http.Response) *Error {
	e := k.newError(newStatusError(resp), resp)
	if e.Class == OK {
		e.Class = Protocol
		e.Err = &protocolError{fmt.Sprintf("unexpected status %s", e.Status)}
	}
	e.Detail = readDetail(resp)
	k.giveUp(e)
	return e
}

func (k *call) giveUp(e *Error) {
	if k.c.OnGiveUp != nil {
		k.c.OnGiveUp(e)
	}
	if l := k.c.Logger; l != nil {
		l.LogAttrs(k.ctx, slog.LevelWarn, "giving up", append(k.attrs(),
			slog.String("class", e.Class.String()), slog.Int("status", e.StatusCode),
			slog.Duration("elapsed", e.Elapsed), slog.Any("err", e.Err))...)
	}
}

// succeed refunds the budget once the call has its answer.
func (k *call) succeed() {
	if k.retries() {
		k.c.budget.succeed(k.host, k.lastCost)
	}
}
