package retry

import (
	"io"
	"net/http"
	"net/http/httptest"
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
		{"hedge fails, first wins late", &Client{}, 2},
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
