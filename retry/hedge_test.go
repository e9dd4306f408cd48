package retry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// stallFirst serves a stalled first request (until canceled) and answers
// the others at once.
func stallFirst(canceled *atomic.Bool) func(int, *http.Request) (*http.Response, error) {
	return func(i int, req *http.Request) (*http.Response, error) {
		if i == 0 {
			<-req.Context().Done()
			canceled.Store(true)
			return nil, req.Context().Err()
		}
		return reply(200, "fast"), nil
	}
}

func TestHedgeOvertakesStalledAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var canceled atomic.Bool
		ft := &fakeTransport{serve: stallFirst(&canceled)}
		var hedges []Event
		c := &Client{Transport: ft, HedgeMinDelay: 100 * time.Millisecond, OnHedge: func(ev Event) { hedges = append(hedges, ev) }}
		start := time.Now()
		resp, err := c.Do(mustGet(t, "http://proxy.test/m/@v/v1.0.0.zip"))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// Before any answer from the host, the hedge waits 2·HedgeMinDelay.
		if el := time.Since(start); string(b) != "fast" || el != 200*time.Millisecond {
			t.Errorf("got %q after %v, want the hedge's answer after 200ms", b, el)
		}
		synctest.Wait()
		if !canceled.Load() {
			t.Error("the stalled first request was not canceled")
		}
		if len(hedges) != 1 || hedges[0].Delay != 200*time.Millisecond || hedges[0].URL != "http://proxy.test/m/@v/v1.0.0.zip" {
			t.Errorf("OnHedge events %+v", hedges)
		}
		if ft.count() != 2 {
			t.Errorf("%d requests, want 2", ft.count())
		}
	})
}

func TestHedgeDelayAdapts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var canceled atomic.Bool
		stalled := atomic.Bool{}
		ft := &fakeTransport{serve: func(i int, req *http.Request) (*http.Response, error) {
			if stalled.CompareAndSwap(true, false) {
				return stallFirst(&canceled)(0, req)
			}
			time.Sleep(50 * time.Millisecond)
			return reply(200, "ok"), nil
		}}
		var delay time.Duration
		c := &Client{Transport: ft, HedgeMinDelay: 30 * time.Millisecond, OnHedge: func(ev Event) { delay = ev.Delay }}
		for range 10 {
			if _, err := c.GetBytes(mustGet(t, "http://proxy.test/x"), 0); err != nil {
				t.Fatal(err)
			}
		}
		if delay != 0 {
			t.Fatalf("hedged a request answered in 50ms (after %v)", delay)
		}
		stalled.Store(true)
		start := time.Now()
		if _, err := c.GetBytes(mustGet(t, "http://proxy.test/x"), 0); err != nil {
			t.Fatal(err)
		}
		// srtt 50ms, rttvar 25ms·(3/4)^9: the hedge goes out after about 57.5ms.
		want := 50*time.Millisecond + 4*(25*time.Millisecond*19683/262144)
		if delay < want-time.Millisecond || delay > want+time.Millisecond {
			t.Errorf("hedged after %v, want about %v", delay, want)
		}
		if el := time.Since(start); el != delay+50*time.Millisecond {
			t.Errorf("answered after %v, want the hedge delay plus the hedge's 50ms", el)
		}
	})
}

func TestHedgeLimits(t *testing.T) {
	slowFirst := func(i int, req *http.Request) (*http.Response, error) {
		if i == 0 {
			time.Sleep(5 * time.Second)
			return reply(200, "slow"), nil
		}
		return nil, errRefused()
	}
	for _, tc := range []struct {
		name     string
		client   *Client
		requests int
	}{
		{"disabled", &Client{HedgeDisabled: true}, 1},
		{"over budget", &Client{Budget: &Budget{Capacity: 4, RetryCost: 5}}, 1},
		{"hedges fail, first wins late", &Client{}, 1 + maxHedges},
		{"Disabled client", &Client{Disabled: true}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ft := &fakeTransport{serve: slowFirst}
				c := tc.client
				c.Transport = ft
				start := time.Now()
				b, err := c.GetBytes(mustGet(t, "http://proxy.test/x"), 0)
				if err != nil || string(b) != "slow" || time.Since(start) != 5*time.Second {
					t.Errorf("got %q, %v after %v; want the first answer after 5s", b, err, time.Since(start))
				}
				if ft.count() != tc.requests {
					t.Errorf("%d requests, want %d", ft.count(), tc.requests)
				}
			})
		})
	}
}

// TestHedgeAgainAfterFailedHedge: a stalled original whose hedge fails is
// hedged once more, rather than waited on until the response-header
// timeout.
func TestHedgeAgainAfterFailedHedge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var canceled atomic.Bool
		ft := &fakeTransport{serve: func(i int, req *http.Request) (*http.Response, error) {
			switch i {
			case 0:
				return stallFirst(&canceled)(0, req)
			case 1:
				return nil, errRefused()
			}
			return reply(200, "second hedge"), nil
		}}
		var hedges int
		c := &Client{Transport: ft, HedgeMinDelay: 100 * time.Millisecond, OnHedge: func(Event) { hedges++ }}
		start := time.Now()
		b, err := c.GetBytes(mustGet(t, "http://proxy.test/m/@v/v1.0.0.zip"), 0)
		if err != nil || string(b) != "second hedge" {
			t.Fatalf("got %q, %v", b, err)
		}
		// Two hedge delays of 2·HedgeMinDelay (no answer from the host yet).
		if el := time.Since(start); el != 400*time.Millisecond {
			t.Errorf("answered after %v, want 400ms", el)
		}
		synctest.Wait()
		if !canceled.Load() || hedges != 2 || ft.count() != 3 {
			t.Errorf("canceled %v, %d hedges, %d requests; want the original canceled, 2 hedges, 3 requests", canceled.Load(), hedges, ft.count())
		}
	})
}

// TestHedgeAgainAfterLateHedge: the original and its hedge both stall; a
// second hedge goes out instead of waiting for the header timeout.
func TestHedgeAgainAfterLateHedge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var stalled atomic.Int32
		ft := &fakeTransport{serve: func(i int, req *http.Request) (*http.Response, error) {
			if i < 2 {
				<-req.Context().Done()
				stalled.Add(1)
				return nil, req.Context().Err()
			}
			return reply(200, "second hedge"), nil
		}}
		var hedges int
		c := &Client{Transport: ft, HedgeMinDelay: 100 * time.Millisecond, OnHedge: func(Event) { hedges++ }}
		start := time.Now()
		b, err := c.GetBytes(mustGet(t, "http://proxy.test/m/@v/v1.0.0.zip"), 0)
		if err != nil || string(b) != "second hedge" {
			t.Fatalf("got %q, %v", b, err)
		}
		// The first hedge after 2·HedgeMinDelay (no answer from the host
		// yet), the second twice that later.
		if el := time.Since(start); el != 600*time.Millisecond {
			t.Errorf("answered after %v, want 600ms", el)
		}
		synctest.Wait()
		if stalled.Load() != 2 || hedges != 2 || ft.count() != 3 {
			t.Errorf("%d stalled requests canceled, %d hedges, %d requests; want 2, 2, 3", stalled.Load(), hedges, ft.count())
		}
	})
}

func TestHedgeNotForPOST(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTransport{serve: func(int, *http.Request) (*http.Response, error) {
			time.Sleep(5 * time.Second)
			return reply(200, ""), nil
		}}
		c := &Client{Transport: ft}
		req := httptestRequest(t, "POST")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if ft.count() != 1 {
			t.Errorf("%d requests, want 1", ft.count())
		}
	})
}

// TestHedgeLoopback checks on a real connection that the losing request is
// canceled on the wire: the server sees its context end.
func TestHedgeLoopback(t *testing.T) {
	var n atomic.Int32
	loserDone := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			<-r.Context().Done()
			close(loserDone)
			return
		}
		io.WriteString(w, "hedge")
	}))
	defer srv.Close()
	c := &Client{HedgeMinDelay: 10 * time.Millisecond}
	defer c.CloseIdleConnections()
	b, err := c.GetBytes(mustGet(t, srv.URL), 0)
	if err != nil || string(b) != "hedge" {
		t.Fatalf("got %q, %v", b, err)
	}
	select {
	case <-loserDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the server never saw the losing request canceled")
	}
}

func TestLatencyEstimate(t *testing.T) {
	var l latency
	if d := l.hedgeDelay(time.Second, time.Minute); d != 2*time.Second {
		t.Errorf("no samples: %v, want 2×floor", d)
	}
	l.observe(100 * time.Millisecond)
	if d := l.hedgeDelay(10*time.Millisecond, time.Minute); d != 300*time.Millisecond {
		t.Errorf("one 100ms sample: %v, want srtt+4·rttvar = 300ms", d)
	}
	if d := l.hedgeDelay(time.Second, time.Minute); d != time.Second {
		t.Errorf("floor: %v", d)
	}
	if d := l.hedgeDelay(time.Millisecond, 200*time.Millisecond); d != 200*time.Millisecond {
		t.Errorf("ceiling: %v", d)
	}
	if d := l.hedgeDelay(time.Millisecond, 0); d != 300*time.Millisecond {
		t.Errorf("no ceiling: %v", d)
	}
	l.observe(300 * time.Millisecond)
	// srtt = (7·100+300)/8 = 125ms; rttvar = (3·50+200)/4 = 87.5ms.
	if d := l.hedgeDelay(time.Millisecond, 0); d != 475*time.Millisecond {
		t.Errorf("two samples: %v, want 475ms", d)
	}
}

// pacedBody delivers one byte per Read after gap; from Read number stallAt
// (if positive) on, it blocks until its context ends.
type pacedBody struct {
	ctx     interface{ Done() <-chan struct{} }
	gap     time.Duration
	reads   int
	stallAt int
	left    int
}

func (b *pacedBody) Read(p []byte) (int, error) {
	b.reads++
	if b.stallAt > 0 && b.reads >= b.stallAt {
		<-b.ctx.Done()
		return 0, context.Canceled
	}
	if b.left == 0 {
		return 0, io.EOF
	}
	time.Sleep(b.gap)
	b.left--
	p[0] = 'x'
	return 1, nil
}

func (b *pacedBody) Close() error { return nil }

// TestAdaptiveStallTimeout: with StallTimeoutMin, a host that delivers data
// steadily is given up on soon after it goes silent, while a host known to
// pause between bursts keeps a longer allowance.
func TestAdaptiveStallTimeout(t *testing.T) {
	for _, tc := range []struct {
		name      string
		gap       time.Duration // between bytes of the warm-up bodies
		pause     time.Duration // the pause in the last body; 0: stall
		wantErr   bool
		wantAfter time.Duration
	}{
		{"steady host goes silent", 10 * time.Millisecond, 0, true, 500 * time.Millisecond},
		{"bursty host pauses", time.Second, 3 * time.Second, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var last atomic.Bool
				ft := &fakeTransport{serve: func(i int, req *http.Request) (*http.Response, error) {
					resp := reply(200, "")
					resp.ContentLength = -1
					b := &pacedBody{ctx: req.Context(), gap: tc.gap, left: 10}
					if last.Load() {
						b.left, b.gap = 2, tc.pause
						if tc.pause == 0 {
							b.stallAt = 2
						}
					}
					resp.Body = b
					return resp, nil
				}}
				c := &Client{Transport: ft, MaxAttempts: 1, HedgeDisabled: true, StallTimeoutMin: 500 * time.Millisecond}
				for range 10 {
					if _, err := c.GetBytes(mustGet(t, "http://proxy.test/x"), 0); err != nil {
						t.Fatal(err)
					}
				}
				last.Store(true)
				start := time.Now()
				_, err := c.GetBytes(mustGet(t, "http://proxy.test/x"), 0)
				if !tc.wantErr {
					if err != nil {
						t.Fatalf("a pause the host is known for failed the read: %v", err)
					}
					return
				}
				var e *Error
				if !errors.As(err, &e) || e.Class != Timeout || !strings.Contains(err.Error(), "no body progress for 500ms") {
					t.Fatalf("err = %v, want a stall timeout of 500ms", err)
				}
				if el := time.Since(start); el != tc.wantAfter {
					t.Errorf("gave up after %v, want %v", el, tc.wantAfter)
				}
			})
		})
	}
}

func TestStallLimit(t *testing.T) {
	var l latency
	if d := l.stallLimit(time.Second, 30*time.Second); d != 30*time.Second {
		t.Errorf("no samples: %v, want the ceiling", d)
	}
	l.observe(100 * time.Millisecond) // srtt 100ms, rttvar 50ms
	if d := l.stallLimit(time.Millisecond, 30*time.Second); d != 1200*time.Millisecond {
		t.Errorf("one sample: %v, want 4·(srtt+4·rttvar) = 1.2s", d)
	}
	if d := l.stallLimit(2*time.Second, 30*time.Second); d != 2*time.Second {
		t.Errorf("floor: %v", d)
	}
	if d := l.stallLimit(time.Millisecond, time.Second); d != time.Second {
		t.Errorf("ceiling: %v", d)
	}
}
