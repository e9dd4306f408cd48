package retry

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// atFile is a memFile that can also be written at offsets, which is what
// lets Download race a slow body.
type atFile struct{ *memFile }

func (f atFile) WriteAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if end := off + int64(len(p)); end > int64(len(f.data)) {
		f.data = append(f.data, make([]byte, end-int64(len(f.data)))...)
	}
	copy(f.data[off:], p)
	return len(p), nil
}

// fastBody is what trickleServer serves at /fast: large enough to teach
// a client the host's throughput.
var fastBody = make([]byte, 256<<10)

// trickleServer serves fastBody at /fast at full speed and at /slow body,
// whose first answer trickles (1 KiB every gap, 50 KiB/s for 20ms) and
// whose later answers are fast (all of them trickle if every is set);
// ranges reports whether it honours Range.
// taughtClient returns a Client hedging after 10ms (or not at all, when
// disabled) that counts its body hedges, those from an offset, taught by
// three fast downloads from srv what the host's bodies usually do.
func taughtClient(t *testing.T, srv *httptest.Server, disabled bool) (*Client, *atomic.Int32) {
	t.Helper()
	hedges := new(atomic.Int32)
	c := &Client{HedgeDisabled: disabled, HedgeMinDelay: 10 * time.Millisecond, OnHedge: func(ev Event) {
		if ev.Offset > 0 {
			hedges.Add(1)
		}
	}}
	for range 3 {
		req, _ := http.NewRequest("GET", srv.URL+"/fast", nil)
		if _, err := c.Download(req, atFile{newMemFile()}, nil); err != nil {
			t.Fatal(err)
		}
	}
	return c, hedges
}

// downloadSlow downloads srv's slow body with c, checks that it arrived
// whole, and returns how long that took.
func downloadSlow(t *testing.T, c *Client, srv *httptest.Server, body []byte) time.Duration {
	t.Helper()
	dst := atFile{newMemFile()}
	req, _ := http.NewRequest("GET", srv.URL+"/slow", nil)
	start := time.Now()
	n, err := c.Download(req, dst, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(body)) || !bytes.Equal(dst.data, body) {
		t.Errorf("downloaded %d bytes, equal %v; want the %d-byte body", n, bytes.Equal(dst.data, body), len(body))
	}
	return time.Since(start)
}

func trickleServer(t *testing.T, body []byte, ranges bool) (*httptest.Server, *atomic.Int32) {
	return trickleServerGap(t, body, ranges, 20*time.Millisecond, false)
}

func trickleServerGap(t *testing.T, body []byte, ranges bool, gap time.Duration, every bool) (*httptest.Server, *atomic.Int32) {
	var slowAnswers atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		if !ranges {
			r.Header.Del("Range")
		}
		if r.URL.Path == "/fast" {
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(fastBody))
			return
		}
		if r.URL.Path == "/slow" && (every || r.Header.Get("Range") == "" && slowAnswers.Add(1) == 1) {
			if every {
				slowAnswers.Add(1)
				if r.Header.Get("Range") != "" {
					// Ranges trickle too: send the whole body slowly.
					w.Header().Del("ETag")
				}
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			for i := 0; i < len(body); i += 1 << 10 {
				if _, err := w.Write(body[i:min(i+1<<10, len(body))]); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-time.After(gap):
				case <-r.Context().Done():
					return
				}
			}
			return
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &slowAnswers
}

// TestSlowBodyHedged: a body trickling at a fraction of what the host's
// other bodies achieve gets a second request from its offset (or, from a
// server without ranges, a whole second copy); the first copy to finish
// wins, long before the trickle would have.
func TestSlowBodyHedged(t *testing.T) {
	body := make([]byte, 1<<20)
	rand.NewChaCha8([32]byte{1}).Read(body)
	for _, ranges := range []bool{true, false} {
		t.Run(fmt.Sprintf("ranges=%v", ranges), func(t *testing.T) {
			srv, _ := trickleServer(t, body, ranges)
			c, hedges := taughtClient(t, srv, false)
			if hedges.Load() != 0 {
				t.Fatalf("%d hedges of fast bodies", hedges.Load())
			}
			// The trickle alone takes 20s.
			if d := downloadSlow(t, c, srv, body); d > 5*time.Second {
				t.Errorf("slow body took %v: not hedged in time", d)
			}
			if hedges.Load() != 1 {
				t.Errorf("%d hedges, want 1", hedges.Load())
			}
		})
	}
}

// TestHedgeDisabledNoBodyHedge: with hedging off a slow body gets no
// second request.
func TestHedgeDisabledNoBodyHedge(t *testing.T) {
	body := make([]byte, 96<<10)
	srv, slow := trickleServer(t, body, true)
	c, hedges := taughtClient(t, srv, true)
	req, _ := http.NewRequest("GET", srv.URL+"/slow", nil)
	if _, err := c.Download(req, atFile{newMemFile()}, nil); err != nil {
		t.Fatal(err)
	}
	if hedges.Load() != 0 || slow.Load() != 1 {
		t.Errorf("%d hedges, %d answers for the slow body; want none and 1", hedges.Load(), slow.Load())
	}
}

// TestSmallSlowBodyHedged: a body far below 64 KiB that trickles is hedged
// too, once it has run as long as makes a request late: the second copy,
// from a host that answers in milliseconds, is done long before the
// trickle would be.
func TestSmallSlowBodyHedged(t *testing.T) {
	body := make([]byte, 24<<10)
	rand.NewChaCha8([32]byte{2}).Read(body)
	// 1 KiB every 200ms: 4.8s for the whole body.
	srv, slow := trickleServerGap(t, body, true, 200*time.Millisecond, false)
	c, hedges := taughtClient(t, srv, false)
	if d := downloadSlow(t, c, srv, body); d > 3*time.Second {
		t.Errorf("24 KiB trickling body took %v: not hedged in time", d)
	}
	if hedges.Load() != 1 || slow.Load() != 1 {
		t.Errorf("%d hedges, %d trickled answers; want 1 and 1", hedges.Load(), slow.Load())
	}
}

// TestSlowHedgeReplaced: a hedge that trickles as well is replaced by
// another, once: a download sends at most maxHedges hedges for its body.
func TestSlowHedgeReplaced(t *testing.T) {
	body := make([]byte, 24<<10)
	// 1 KiB every 50ms: each copy takes 1.2s, long after both hedges.
	srv, slow := trickleServerGap(t, body, true, 50*time.Millisecond, true)
	c, hedges := taughtClient(t, srv, false)
	downloadSlow(t, c, srv, body)
	if hedges.Load() != maxHedges || slow.Load() != 1+maxHedges {
		t.Errorf("%d hedges, %d trickled answers; want %d and %d", hedges.Load(), slow.Load(), maxHedges, 1+maxHedges)
	}
}

// TestWorthHedging is the decision itself.
func TestWorthHedging(t *testing.T) {
	const mb = 1 << 20
	trickle := slowBody{elapsed: 300 * time.Millisecond, late: 250 * time.Millisecond, got: 6000, left: 24000,
		hostRate: 100 * mb, ttfb: 10 * time.Millisecond}
	for _, tc := range []struct {
		name string
		s    func(s slowBody) slowBody
		want bool
	}{
		{"small body trickling", func(s slowBody) slowBody { return s }, true},
		{"nothing arrived yet", func(s slowBody) slowBody { s.got = 0; return s }, true},
		{"not late yet", func(s slowBody) slowBody { s.elapsed = 200 * time.Millisecond; return s }, false},
		{"host throughput unknown", func(s slowBody) slowBody { s.hostRate = 0; return s }, false},
		{"at a fifth of the host's throughput", func(s slowBody) slowBody { s.hostRate = 5 * 20000; return s }, false},
		{"done sooner than a new request would answer", func(s slowBody) slowBody {
			s.left, s.ttfb = 3000, 100*time.Millisecond
			return s
		}, false},
		{"a new request is slow to answer", func(s slowBody) slowBody { s.ttfb = time.Second; return s }, false},
		{"done", func(s slowBody) slowBody { s.left = 0; return s }, false},
	} {
		if got := tc.s(trickle).worthHedging(); got != tc.want {
			t.Errorf("%s: worthHedging = %v, want %v", tc.name, got, tc.want)
		}
	}
}
