package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Slow bodies. A download whose body arrives far slower than the host's
// bodies usually do (a trickle: a congested path, an overloaded replica)
// gets a second request from the current offset, with Range, and the two
// race: both write the same bytes at the same offsets of the destination
// (io.WriterAt), the first to reach the end wins and the other is
// canceled. A stall is the stall timeout's business; a trickle never
// stalls, so only this catches it.
const (
	// slowBodyRatio: a body is slow below 1/slowBodyRatio of the host's
	// observed throughput.
	slowBodyRatio = 10
	// slowBodyCheck is how often a body's progress is looked at.
	slowBodyCheck = 100 * time.Millisecond
	// throughputMinBytes: bodies smaller than this say more about latency
	// than about throughput, and are not sampled.
	throughputMinBytes = 64 << 10
)

// throughput estimates a host's body throughput in bytes per second: a
// moving average over its recent bodies of at least throughputMinBytes.
type throughput struct {
	mu  sync.Mutex
	n   int
	bps float64
}

func (c *Client) throughputFor(host string) *throughput {
	if t, ok := c.rates.Load(host); ok {
		return t.(*throughput)
	}
	t, _ := c.rates.LoadOrStore(host, new(throughput))
	return t.(*throughput)
}

func (t *throughput) observe(bytes int64, d time.Duration) {
	if bytes < throughputMinBytes || d <= 0 {
		return
	}
	bps := float64(bytes) / d.Seconds()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == 0 {
		t.bps = bps
	} else {
		t.bps += (bps - t.bps) / 8
	}
	t.n++
}

// rate returns the estimate, or 0 before three samples.
func (t *throughput) rate() float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n < 3 {
		return 0
	}
	return t.bps
}

// slowBody is what the decision to hedge a body looks at.
type slowBody struct {
	elapsed  time.Duration // since the copy was asked for
	late     time.Duration // when a request to the host counts as late (hedgeDelay)
	got      int64         // bytes the copy delivered so far
	left     int64         // bytes still to come
	hostRate float64       // the host's usual throughput, bytes per second (0: unknown)
	ttfb     time.Duration // the host's usual time to first byte
}

// worthHedging reports whether another request for the rest of the body
// would very likely finish first. The copy must have been running for as
// long as makes a request late (so that a slow start is not mistaken for
// a trickle) and be progressing at less than 1/slowBodyRatio of the
// host's usual throughput; and a new request, which takes about the
// host's time to first byte plus the rest at the host's throughput, must
// be expected to finish in less than half the time the rest takes at the
// current pace. The size of the body does not matter: a 30 KB zip
// trickling at 20 KB/s from a host that answers in milliseconds is as
// much worth a hedge as a large one.
func (s slowBody) worthHedging() bool {
	if s.elapsed < s.late || s.hostRate <= 0 || s.left <= 0 {
		return false
	}
	rate := float64(s.got) / s.elapsed.Seconds()
	if rate*slowBodyRatio >= s.hostRate {
		return false
	}
	again := s.ttfb.Seconds() + float64(s.left)/s.hostRate
	return rate*2*again < float64(s.left)
}

// racer is one copy of a body being written into the destination.
type racer struct {
	pos   atomic.Int64 // next offset to write; [from, pos) is written
	err   error        // set before done is closed
	done  chan struct{}
	stop  func()       // cancels the copy
	start time.Time    // when the copy was asked for
	from  atomic.Int64 // where it started
}

// slow reports whether r is worth hedging, at the host's estimates.
func (d *download) slow(r *racer) (bool, time.Duration) {
	c := d.k.c
	lat := c.latencyFor(d.k.host)
	pos := r.pos.Load()
	s := slowBody{
		elapsed:  time.Since(r.start),
		late:     lat.hedgeDelay(c.hedgeMin, c.headerTimeout),
		got:      pos - r.from.Load(),
		left:     d.total - pos,
		hostRate: c.throughputFor(d.k.host).rate(),
		ttfb:     lat.mean(),
	}
	return s.worthHedging(), s.elapsed
}

// copyAt copies body into dst from offset pos up to total bytes in all.
func (r *racer) copyAt(dst io.WriterAt, body io.Reader, total int64) {
	defer close(r.done)
	buf := make([]byte, min(64<<10, max(total-r.pos.Load(), 0)+1))
	for {
		pos := r.pos.Load()
		if pos > total {
			r.err = &restartError{&protocolError{"body longer than announced"}}
			return
		}
		n, err := body.Read(buf[:min(int64(len(buf)), total-pos+1)])
		if n > 0 {
			if _, werr := dst.WriteAt(buf[:n], pos); werr != nil {
				r.err = &localWriteError{werr}
				return
			}
			r.pos.Add(int64(n))
		}
		switch {
		case err == io.EOF && r.pos.Load() == total:
			return
		case err == io.EOF:
			r.err = io.ErrUnexpectedEOF
			return
		case err != nil && r.pos.Load() == total:
			return // every byte arrived; only the end of the exchange failed
		case err != nil:
			r.err = err
			return
		}
	}
}

// streamRace is stream for a body of known size into a destination that
// can be written at offsets: it watches the body's progress and, if it is
// slow, hedges it (see slowBodyRatio).
func (d *download) streamRace(body io.ReadCloser, dst io.WriterAt) error {
	c := d.k.c
	host := d.k.host
	start, from := time.Now(), d.offset
	a := &racer{done: make(chan struct{}), stop: func() { body.Close() }, start: start}
	a.pos.Store(d.offset)
	a.from.Store(d.offset)
	go a.copyAt(dst, body, d.total)
	var b *racer
	tick := time.NewTicker(slowBodyCheck)
	defer tick.Stop()
	finish := func(winner *racer, losers ...*racer) error {
		for _, l := range losers {
			if l != nil {
				l.stop()
				<-l.done // no write after Download returns
			}
		}
		d.offset = winner.pos.Load()
		if winner == a {
			c.throughputFor(host).observe(d.offset-from, time.Since(start))
		}
		if _, err := d.dst.Seek(d.offset, io.SeekStart); err != nil {
			return &localWriteError{err}
		}
		if d.offset > from {
			d.k.progressed = true
		}
		return winner.err
	}
	for {
		var bdone <-chan struct{}
		if b != nil {
			bdone = b.done
		}
		select {
		case <-a.done:
			if a.err == nil || b == nil {
				return finish(a, b)
			}
			<-b.done
			if b.err == nil {
				return finish(b)
			}
			// Both failed: resume from the longer prefix. The hedge
			// started at or before the original's offset, so what either
			// wrote is contiguous from the start.
			if b.pos.Load() > a.pos.Load() {
				a.pos.Store(b.pos.Load())
			}
			return finish(a)
		case <-bdone:
			if b.err == nil {
				return finish(b, a)
			}
			b = nil // a failed hedge: the original goes on
		case <-tick.C:
			// The copy to watch is the latest: the original, or a hedge
			// that may have met a trickle of its own (then it is replaced
			// by another, from the original's offset, which it may have
			// overtaken: the bytes are the same).
			w := a
			if b != nil {
				w = b
			}
			if d.bodyHedges >= maxHedges {
				continue
			}
			slow, elapsed := d.slow(w)
			if !slow || !c.budget.take(d.k.host, c.budget.cost(Unknown)) {
				continue
			}
			if b != nil {
				b.stop()
				<-b.done
			}
			d.bodyHedges++
			b = d.hedgeBody(a.pos.Load(), elapsed, dst)
		}
	}
}

// hedgeBody sends the second request for a slow body from offset, and
// returns the racer copying its answer, or nil if the answer cannot
// continue the body.
func (d *download) hedgeBody(offset int64, late time.Duration, dst io.WriterAt) *racer {
	ctx, cancel := context.WithCancel(d.k.ctx)
	req := d.req.Clone(ctx)
	req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
	if d.etag != "" {
		req.Header.Set("If-Range", d.etag)
	}
	d.k.c.onHedge(req, late, offset)
	// Canceling the context aborts the request and the reads of its body.
	b := &racer{done: make(chan struct{}), stop: cancel, start: time.Now()}
	b.pos.Store(offset)
	b.from.Store(offset)
	go func() {
		resp, err := d.k.c.hc.Do(req)
		if err != nil {
			b.err = err
			close(b.done)
			return
		}
		start, err := d.continues(resp, offset)
		if err != nil {
			resp.Body.Close()
			b.err = err
			close(b.done)
			return
		}
		b.from.Store(start)
		b.pos.Store(start)
		b.copyAt(dst, resp.Body, d.total)
		resp.Body.Close()
	}()
	return b
}

// continues checks that a hedge's answer is the same body: a 206 from
// offset, or a 200 of the whole body (a server without ranges), and
// returns where its bytes go.
func (d *download) continues(resp *http.Response, offset int64) (int64, error) {
	switch resp.StatusCode {
	case http.StatusOK:
		if resp.ContentLength != d.total {
			return 0, &protocolError{fmt.Sprintf("hedge: whole body of %d bytes, want %d", resp.ContentLength, d.total)}
		}
		if et := strongETag(resp.Header.Get("ETag")); d.etag != "" && et != "" && et != d.etag {
			return 0, &protocolError{"hedge: the body changed"}
		}
		return 0, nil
	case http.StatusPartialContent:
		first, last, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || first != offset || total != d.total || last != total-1 {
			return 0, &protocolError{fmt.Sprintf("hedge: Content-Range %q does not continue at byte %d of %d", resp.Header.Get("Content-Range"), offset, d.total)}
		}
		if et := strongETag(resp.Header.Get("ETag")); d.etag != "" && et != "" && et != d.etag {
			return 0, &protocolError{"hedge: the body changed"}
		}
		return offset, nil
	}
	return 0, errors.New("hedge: " + resp.Status)
}
