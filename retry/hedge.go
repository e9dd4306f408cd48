package retry

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/modkit/modkit/internal/web"
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

func (c *Client) latencyFor(host string) *latency { return estimateFor(&c.latency, host) }

// estimateFor returns host's estimate in m, a map of host → *latency.
func estimateFor(m *sync.Map, host string) *latency {
	if l, ok := m.Load(host); ok {
		return l.(*latency)
	}
	l, _ := m.LoadOrStore(host, new(latency))
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

// mean returns the smoothed estimate itself (0 before any sample).
func (l *latency) mean() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.srtt
}

// stallLimit returns how long a body read may block, for an estimate of
// the gaps between arriving data: four times srtt+4·rttvar, clamped to
// [floor, ceil]; ceil while there are no samples.
func (l *latency) stallLimit(floor, ceil time.Duration) time.Duration {
	l.mu.Lock()
	n, d := l.n, 4*(l.srtt+4*l.rttvar)
	l.mu.Unlock()
	if n == 0 {
		return ceil
	}
	return min(max(d, floor), ceil)
}

type hedgeResult struct {
	resp *http.Response
	err  error
	i    int // 0: the original request, then the hedges in order
}

// maxHedges bounds the extra requests one attempt may send.
const maxHedges = 2

// hedged sends req and, if no response headers arrive within the host's
// hedge delay and the budget allows, the same request again. The first
// response wins; the others are canceled and their responses, should one
// still arrive, closed. Errors do not win: while a request is still
// pending, another's failure is ignored. When a hedge is itself late (twice
// the delay after it went out) or fails while an earlier request is still
// out, another goes out, so that a stalled original whose hedge stalled or
// was reset too is not waited on until the response-header timeout; at
// most maxHedges extra requests go out per attempt, each paid for from the
// budget.
func (t *transport) hedged(req *http.Request) (*http.Response, error) {
	host := req.URL.Host
	delay := t.c.latencyFor(host).hedgeDelay(t.c.hedgeMin, t.c.headerTimeout)
	results := make(chan hedgeResult, 1+maxHedges)
	var cancels [1 + maxHedges]context.CancelFunc
	launched, pending := 0, 0
	launch := func() {
		i := launched
		ctx, cancel := context.WithCancel(req.Context())
		cancels[i] = cancel
		r := req.WithContext(ctx)
		go func() {
			resp, err := t.attempt(r, cancel)
			results <- hedgeResult{resp, err, i}
		}()
		launched++
		pending++
	}
	launch()
	timer := time.NewTimer(delay)
	defer timer.Stop()
	var errs [1 + maxHedges]error
	for {
		select {
		case <-timer.C:
			if !t.c.budget.take(host, t.c.budget.cost(Unknown)) {
				continue
			}
			launch()
			t.c.onHedge(req, delay, 0)
			if launched <= maxHedges {
				// Give the hedge longer than the original had before
				// hedging it in turn.
				timer.Reset(2 * delay)
			}
		case r := <-results:
			pending--
			if r.err == nil {
				for i := range launched {
					if i != r.i {
						cancels[i]()
					}
				}
				if pending > 0 {
					go closeLate(results, pending)
				}
				return r.resp, nil
			}
			errs[r.i] = r.err
			if pending == 0 {
				for _, err := range errs {
					if err != nil {
						return nil, err
					}
				}
			}
			if launched > 1 && launched <= maxHedges {
				timer.Reset(delay)
			}
		}
	}
}

// closeLate waits for the n losing requests of a hedged attempt, which have
// been canceled, and closes any response they got anyway.
func closeLate(results <-chan hedgeResult, n int) {
	for range n {
		if r := <-results; r.resp != nil {
			r.resp.Body.Close()
		}
	}
}

func (c *Client) onHedge(req *http.Request, delay time.Duration, offset int64) {
	ev := Event{Method: req.Method, URL: web.RedactURL(req.URL), Delay: delay, Offset: offset}
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
