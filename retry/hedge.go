package retry

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// latency estimates a host's time to first byte the way TCP estimates
// round-trip time (RFC 6298): a smoothed mean and a smoothed mean
// deviation, so that srtt+4·rttvar sits in the tail of the distribution
// without keeping samples.
type latency struct {
	mu     sync.Mutex
	n      int
	srtt   time.Duration
	rttvar time.Duration
}

func (c *Client) latencyFor(host string) *latency {
	if l, ok := c.latency.Load(host); ok {
		return l.(*latency)
	}
	l, _ := c.latency.LoadOrStore(host, new(latency))
	return l.(*latency)
}

func (l *latency) observe(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == 0 {
		l.srtt, l.rttvar = d, d/2
	} else {
		diff := l.srtt - d
		if diff < 0 {
			diff = -diff
		}
		l.rttvar = (3*l.rttvar + diff) / 4
		l.srtt = (7*l.srtt + d) / 8
	}
	l.n++
}

// hedgeDelay returns how long to wait for response headers before sending a
// hedge: the estimate, clamped to [floor, ceil] (ceil 0: no upper bound).
func (l *latency) hedgeDelay(floor, ceil time.Duration) time.Duration {
	l.mu.Lock()
	d := 2 * floor
	if l.n > 0 {
		d = l.srtt + 4*l.rttvar
	}
	l.mu.Unlock()
	d = max(d, floor)
	if ceil > 0 {
		d = min(d, ceil)
	}
	return d
}

type hedgeResult struct {
	resp *http.Response
	err  error
	i    int // 0: the original request, 1: the hedge
}

// hedged sends req and, if no response headers arrive within the host's
// hedge delay and the budget allows, the same request again. The first
// response wins; the other request is canceled and its response, should
// one still arrive, closed. Errors do not win: while one request is still
// pending, the other's failure is ignored.
func (t *transport) hedged(req *http.Request) (*http.Response, error) {
	host := req.URL.Host
	delay := t.c.latencyFor(host).hedgeDelay(t.c.hedgeMin, t.c.headerTimeout)
	results := make(chan hedgeResult, 2)
	var cancels [2]context.CancelFunc
	launch := func(i int) {
		ctx, cancel := context.WithCancel(req.Context())
		cancels[i] = cancel
		r := req.WithContext(ctx)
		go func() {
			resp, err := t.attempt(r, cancel)
			results <- hedgeResult{resp, err, i}
		}()
	}
	launch(0)
	timer := time.NewTimer(delay)
	defer timer.Stop()
	launched, pending := 1, 1
	var errs [2]error
	for {
		select {
		case <-timer.C:
			if !t.c.budget.take(host, t.c.budget.cost(Unknown)) {
				continue
			}
			launch(1)
			launched, pending = 2, 2
			t.c.onHedge(req, delay)
		case r := <-results:
			pending--
			if r.err == nil {
				if launched == 2 {
					cancels[1-r.i]()
				}
				if pending > 0 {
					go closeLate(results)
				}
				return r.resp, nil
			}
			errs[r.i] = r.err
			if pending == 0 {
				if errs[0] != nil {
					return nil, errs[0]
				}
				return nil, errs[1]
			}
		}
	}
}

// closeLate waits for the losing request of a hedged pair, which has been
// canceled, and closes its response if it got one anyway.
func closeLate(results <-chan hedgeResult) {
	if r := <-results; r.resp != nil {
		r.resp.Body.Close()
	}
}

func (c *Client) onHedge(req *http.Request, delay time.Duration) {
	ev := Event{Method: req.Method, URL: redactedURL(req.URL), Delay: delay}
	if ev.Method == "" {
		ev.Method = http.MethodGet
	}
	if c.OnHedge != nil {
		c.OnHedge(ev)
	}
	if c.Logger != nil {
		c.Logger.LogAttrs(req.Context(), slog.LevelInfo, "hedging",
			slog.String("method", ev.Method), slog.String("url", ev.URL), slog.Duration("after", delay))
	}
}
