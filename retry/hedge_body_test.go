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

// trickleServer serves body at /fast at full speed and at /slow the same
// body, whose first answer trickles (1 KiB every 20ms, 50 KiB/s) and whose
// later answers are fast; ranges reports whether it honours Range.
func trickleServer(t *testing.T, body []byte, ranges bool) (*httptest.Server, *atomic.Int32) {
	var slowAnswers atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		if !ranges {
			r.Header.Del("Range")
		}
		if r.URL.Path == "/slow" && r.Header.Get("Range") == "" && slowAnswers.Add(1) == 1 {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			for i := 0; i < len(body); i += 1 << 10 {
				if _, err := w.Write(body[i:min(i+1<<10, len(body))]); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				select {
				case <-time.After(20 * time.Millisecond):
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
			var hedges atomic.Int32
			c := &Client{HedgeMinDelay: 10 * time.Millisecond, OnHedge: func(ev Event) {
				if ev.Offset > 0 {
					hedges.Add(1)
				}
			}}
			// Teach the client what the host's bodies usually do.
			for range 3 {
				req, _ := http.NewRequest("GET", srv.URL+"/fast", nil)
				if _, err := c.Download(req, atFile{newMemFile()}, nil); err != nil {
					t.Fatal(err)
				}
			}
			if hedges.Load() != 0 {
				t.Fatalf("%d hedges of fast bodies", hedges.Load())
			}
			dst := atFile{newMemFile()}
			req, _ := http.NewRequest("GET", srv.URL+"/slow", nil)
			start := time.Now()
			n, err := c.Download(req, dst, nil)
			if err != nil {
				t.Fatal(err)
			}
			// The trickle alone takes 20s.
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("slow body took %v: not hedged in time", d)
			}
			if n != int64(len(body)) || !bytes.Equal(dst.data, body) {
				t.Errorf("downloaded %d bytes, equal %v; want the %d-byte body", n, bytes.Equal(dst.data, body), len(body))
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
	var hedges atomic.Int32
	c := &Client{HedgeDisabled: true, HedgeMinDelay: 10 * time.Millisecond, OnHedge: func(ev Event) {
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
	req, _ := http.NewRequest("GET", srv.URL+"/slow", nil)
	if _, err := c.Download(req, atFile{newMemFile()}, nil); err != nil {
		t.Fatal(err)
	}
	if hedges.Load() != 0 || slow.Load() != 1 {
		t.Errorf("%d hedges, %d answers for the slow body; want none and 1", hedges.Load(), slow.Load())
	}
}
