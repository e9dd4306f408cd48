package retry

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// transport is the http.RoundTripper below go-retryablehttp. It sends
// single attempts (or a hedged pair) with the per-attempt limits: the
// response-header timeout and, on the body, the stall timeout. Retrying is
// not its business.
type transport struct {
	c    *Client
	base http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.c.HedgeDisabled && idempotentNoBody(req) {
		return t.hedged(req)
	}
	ctx, cancel := context.WithCancel(req.Context())
	return t.attempt(req.WithContext(ctx), cancel)
}

func idempotentNoBody(req *http.Request) bool {
	return (req.Method == "" || req.Method == http.MethodGet || req.Method == http.MethodHead) &&
		(req.Body == nil || req.Body == http.NoBody)
}

// Why this package canceled an attempt's context, so that the error the
// transport then returns can be replaced by a meaningful one.
const (
	canceledHeaders int32 = iota + 1
	canceledStall
)

// attempt sends req, whose context cancel cancels. It owns cancel: it is
// called on failure, or when the returned body is closed.
func (t *transport) attempt(req *http.Request, cancel context.CancelFunc) (*http.Response, error) {
	reason := new(atomic.Int32)
	var timer *time.Timer
	if d := t.c.headerTimeout; d > 0 {
		timer = time.AfterFunc(d, func() {
			reason.CompareAndSwap(0, canceledHeaders)
			cancel()
		})
	}
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	if timer != nil {
		timer.Stop()
	}
	if err != nil {
		cancel()
		if reason.Load() == canceledHeaders {
			err = &timeoutError{"no response headers", t.c.headerTimeout}
		}
		return nil, err
	}
	t.c.latencyFor(req.URL.Host).observe(time.Since(start))
	resp.Body = newStallBody(resp.Body, cancel, reason, t.c.stallTimeout, t.c.headerTimeout)
	return resp, nil
}

// stallBody enforces the stall timeout: a Read that returns nothing for
// stall cancels the attempt. The timer runs only while a Read is blocked,
// so a slow consumer (a slow disk) is not mistaken for a stalled server.
type stallBody struct {
	rc            io.ReadCloser
	cancel        context.CancelFunc
	reason        *atomic.Int32
	stall         time.Duration
	headerTimeout time.Duration
	timer         *time.Timer // nil without a stall timeout
}

func newStallBody(rc io.ReadCloser, cancel context.CancelFunc, reason *atomic.Int32, stall, headerTimeout time.Duration) *stallBody {
	b := &stallBody{rc: rc, cancel: cancel, reason: reason, stall: stall, headerTimeout: headerTimeout}
	if stall > 0 {
		// Created stopped, so that Read and a concurrent Close only
		// ever use the timer's own goroutine-safe methods.
		b.timer = time.AfterFunc(stall, func() {
			reason.CompareAndSwap(0, canceledStall)
			cancel()
		})
		b.timer.Stop()
	}
	return b
}

func (b *stallBody) Read(p []byte) (int, error) {
	if b.timer != nil {
		b.timer.Reset(b.stall)
	}
	n, err := b.rc.Read(p)
	if b.timer != nil {
		b.timer.Stop()
	}
	if err != nil && err != io.EOF {
		switch b.reason.Load() {
		case canceledStall:
			err = &timeoutError{"no body progress", b.stall}
		case canceledHeaders:
			err = &timeoutError{"no response headers", b.headerTimeout}
		}
	}
	return n, err
}

func (b *stallBody) Close() error {
	if b.timer != nil {
		b.timer.Stop()
	}
	err := b.rc.Close()
	b.cancel()
	return err
}
