package retry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
)

// memFile is an in-memory File.
type memFile struct {
	mu   sync.Mutex
	data []byte
	pos  int64
}

func newMemFile() *memFile { return new(memFile) }

func (f *memFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if end := f.pos + int64(len(p)); end > int64(len(f.data)) {
		f.data = append(f.data, make([]byte, end-int64(len(f.data)))...)
	}
	copy(f.data[f.pos:], p)
	f.pos += int64(len(p))
	return len(p), nil
}

func (f *memFile) Seek(off int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if whence != io.SeekStart || off < 0 {
		return 0, errors.New("memFile: unsupported seek")
	}
	f.pos = off
	return off, nil
}

func (f *memFile) Truncate(n int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.data = f.data[:min(n, int64(len(f.data)))]
	return nil
}

func (f *memFile) bytes() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return bytes.Clone(f.data)
}

func randomBody(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// seen records the headers of the requests a test server received.
type seen struct {
	mu   sync.Mutex
	reqs []http.Header
}

func (s *seen) add(r *http.Request) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, r.Header.Clone())
	return len(s.reqs) - 1
}

func (s *seen) get(key string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, h := range s.reqs {
		out = append(out, h.Get(key))
	}
	return out
}

// serveBody answers r from body like a file server that honours
// "Range: bytes=N-" and If-Range (unless ignoreRange), and resets the
// connection (SO_LINGER 0) after cut bytes of body if cut > 0.
func serveBody(w http.ResponseWriter, r *http.Request, body []byte, etag string, ignoreRange bool, cut int) {
	start := 0
	if rg := r.Header.Get("Range"); rg != "" && !ignoreRange {
		if ir := r.Header.Get("If-Range"); ir == "" || ir == etag {
			start, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-"))
		}
	}
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)-start))
	if start > 0 {
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(body)-1, len(body)))
		w.WriteHeader(http.StatusPartialContent)
	}
	rest := body[start:]
	if cut <= 0 || len(rest) <= cut {
		w.Write(rest)
		return
	}
	w.Write(rest[:cut])
	resetConn(w)
}

// resetConn flushes what was written and aborts the connection with a TCP
// reset.
func resetConn(w http.ResponseWriter) {
	w.(http.Flusher).Flush()
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	conn.(*net.TCPConn).SetLinger(0)
	conn.Close()
}

func fastClient() *Client {
	return &Client{BaseDelay: time.Microsecond, MaxDelay: time.Millisecond}
}

func TestDownloadResumesAfterResets(t *testing.T) {
	const chunk = 64 << 10
	body := randomBody(16*chunk+123, 1)
	var s seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.add(r)
		serveBody(w, r, body, `"v1"`, false, chunk)
	}))
	defer srv.Close()

	var offsets []int64
	c := fastClient()
	c.MaxResumes = 20
	c.OnResume = func(ev Event) { offsets = append(offsets, ev.Offset) }
	defer c.CloseIdleConnections()
	f, err := os.Create(filepath.Join(t.TempDir(), "m.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum := sha256.Sum256(body)
	verify := func(size int64) error {
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(f, 0, size)); err != nil {
			return err
		}
		if !bytes.Equal(h.Sum(nil), sum[:]) {
			return errors.New("hash mismatch")
		}
		return nil
	}
	n, err := c.Download(mustGet(t, srv.URL), f, &DownloadOptions{ExpectedSize: int64(len(body)), Verify: verify})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(f.Name())
	if n != int64(len(body)) || !bytes.Equal(got, body) {
		t.Fatalf("downloaded %d bytes (file %d), want the %d-byte body", n, len(got), len(body))
	}
	var wantRanges, wantIfRange []string
	var wantOffsets []int64
	for off := 0; off < len(body); off += chunk {
		if off == 0 {
			wantRanges, wantIfRange = append(wantRanges, ""), append(wantIfRange, "")
			continue
		}
		wantRanges = append(wantRanges, fmt.Sprintf("bytes=%d-", off))
		wantIfRange = append(wantIfRange, `"v1"`)
		wantOffsets = append(wantOffsets, int64(off))
	}
	if got := s.get("Range"); !equal(got, wantRanges) {
		t.Errorf("Range headers:\n%q\nwant\n%q", got, wantRanges)
	}
	if got := s.get("If-Range"); !equal(got, wantIfRange) {
		t.Errorf("If-Range headers: %q", got)
	}
	if !equal(offsets, wantOffsets) {
		t.Errorf("OnResume offsets %v, want %v", offsets, wantOffsets)
	}
	for i, ae := range s.get("Accept-Encoding") {
		if ae != "identity" {
			t.Errorf("request %d: Accept-Encoding %q, want identity", i, ae)
		}
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDownloadServerIgnoresRange(t *testing.T) {
	body := randomBody(200<<10, 2)
	checkDownload(t, nil, func(i int, w http.ResponseWriter, r *http.Request) {
		cut := 0
		if i == 0 {
			cut = 100 << 10
		}
		serveBody(w, r, body, `"v1"`, true, cut)
	}, body, "", "bytes=102400-")
}

func TestDownloadETagChanges(t *testing.T) {
	v1, v2 := randomBody(200<<10, 3), randomBody(150<<10, 4)
	t.Run("If-Range honoured", func(t *testing.T) {
		s := checkDownload(t, nil, func(i int, w http.ResponseWriter, r *http.Request) {
			if i == 0 {
				serveBody(w, r, v1, `"v1"`, false, 100<<10)
				return
			}
			serveBody(w, r, v2, `"v2"`, false, 0)
		}, v2, "", "bytes=102400-")
		if got := s.get("If-Range"); !equal(got, []string{"", `"v1"`}) {
			t.Errorf("If-Range headers %q", got)
		}
	})
	t.Run("If-Range ignored", func(t *testing.T) {
		// The 206 of the changed body is refused and the download restarts.
		checkDownload(t, nil, func(i int, w http.ResponseWriter, r *http.Request) {
			if i == 0 {
				serveBody(w, r, v1, `"v1"`, false, 100<<10)
				return
			}
			r.Header.Del("If-Range") // as if the server did not know it
			serveBody(w, r, v2, `"v2"`, false, 0)
		}, v2, "", "bytes=102400-", "")
	})
}

func TestDownloadBodyShrank(t *testing.T) {
	v1, v2 := randomBody(200<<10, 9), randomBody(50<<10, 10)
	// Without an ETag there is no If-Range; the server answers 416 to a
	// range beyond its new body, and the download starts over.
	checkDownload(t, nil, func(i int, w http.ResponseWriter, r *http.Request) {
		if i == 0 {
			serveBody(w, r, v1, "", false, 100<<10)
			return
		}
		if r.Header.Get("Range") != "" {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", len(v2)))
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		serveBody(w, r, v2, "", false, 0)
	}, v2, "", "bytes=102400-", "")
}

func TestDownloadBadContentRange(t *testing.T) {
	body := randomBody(100<<10, 5)
	for _, tc := range []struct {
		name  string
		value string
	}{
		{"missing", ""},
		{"wrong start", "bytes 0-102399/102400"},
		{"wrong total", "bytes 51200-102399/999999"},
		{"short of the end", "bytes 51200-60000/102400"},
		{"garbage", "bytes=51200-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// After the bad 206, the download restarts from byte 0.
			checkDownload(t, nil, func(i int, w http.ResponseWriter, r *http.Request) {
				switch i {
				case 0:
					serveBody(w, r, body, "", false, 50<<10)
				case 1:
					w.Header().Set("Content-Range", tc.value)
					w.WriteHeader(http.StatusPartialContent)
					w.Write(body[50<<10:])
				default:
					serveBody(w, r, body, "", false, 0)
				}
			}, body, "", "bytes=51200-", "")
		})
	}
}

// checkDownload downloads from a test server whose handler also gets the
// index of the request, using c (nil: fastClient()), and checks that the
// file is want and that the requests carried the Range headers wantRanges.
// It returns what the server saw.
func checkDownload(t *testing.T, c *Client, handler func(i int, w http.ResponseWriter, r *http.Request), want []byte, wantRanges ...string) *seen {
	t.Helper()
	s := new(seen)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler(s.add(r), w, r)
	}))
	defer srv.Close()
	if c == nil {
		c = fastClient()
	}
	defer c.CloseIdleConnections()
	f := newMemFile()
	n, err := c.Download(mustGet(t, srv.URL), f, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.bytes(); n != int64(len(want)) || !bytes.Equal(got, want) {
		t.Errorf("downloaded %d bytes (file %d), want the %d-byte body", n, len(got), len(want))
	}
	if got := s.get("Range"); !equal(got, wantRanges) {
		t.Errorf("Range headers %q, want %q", got, wantRanges)
	}
	return s
}

func TestDownloadChecks(t *testing.T) {
	body := randomBody(10<<10, 6)
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		serveBody(w, r, body, `"e"`, false, 0)
	}))
	defer srv.Close()
	c := fastClient()
	defer c.CloseIdleConnections()
	badOnce := func() func(int64) error {
		calls := 0
		return func(int64) error {
			if calls++; calls == 1 {
				return errors.New("bad hash")
			}
			return nil
		}
	}
	for _, tc := range []struct {
		name     string
		opts     DownloadOptions
		requests int32
		err      string
	}{
		{"verify fails once", DownloadOptions{Verify: badOnce()}, 2, ""},
		{"verify always fails", DownloadOptions{Verify: func(int64) error { return errors.New("bad hash") }}, 2,
			"corrupt download: bad hash (2 attempts in"},
		{"announced size wrong", DownloadOptions{ExpectedSize: 42}, 2,
			"corrupt download: server announced 10240 bytes, want 42 (2 attempts in"},
		{"size right", DownloadOptions{ExpectedSize: 10 << 10}, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requests.Store(0)
			f := newMemFile()
			_, err := c.Download(mustGet(t, srv.URL), f, &tc.opts)
			if got := requests.Load(); got != tc.requests {
				t.Errorf("%d requests, want %d", got, tc.requests)
			}
			if tc.err == "" {
				if err != nil || !bytes.Equal(f.bytes(), body) {
					t.Errorf("err %v, file ok %v", err, bytes.Equal(f.bytes(), body))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) || Classify(context.Background(), err, nil) != Corrupt {
				t.Errorf("err %v, want class corrupt and %q", err, tc.err)
			}
		})
	}
}

type failingFile struct{ memFile }

func (f *failingFile) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

func TestDownloadLocalError(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		io.WriteString(w, "body")
	}))
	defer srv.Close()
	c := fastClient()
	defer c.CloseIdleConnections()
	_, err := c.Download(mustGet(t, srv.URL), &failingFile{}, nil)
	var e *Error
	if !errors.As(err, &e) || e.Class != Local || !strings.Contains(err.Error(), "writing download: no space left on device") {
		t.Errorf("err %v, want class local", err)
	}
	if requests.Load() != 1 {
		t.Errorf("%d requests, want 1", requests.Load())
	}
}

func TestDownloadStallResumes(t *testing.T) {
	body := randomBody(64<<10, 7)
	c := fastClient()
	c.StallTimeout = 200 * time.Millisecond // long enough for a loaded machine
	checkDownload(t, c, func(i int, w http.ResponseWriter, r *http.Request) {
		if i == 0 {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Header().Set("ETag", `"s"`)
			w.Write(body[:1000])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		serveBody(w, r, body, `"s"`, false, 0)
	}, body, "", "bytes=1000-")
}

// TestDownloadNoLeaks runs 100 downloads that all fail (mid-body cuts past
// the resume limit, server errors) and checks that every connection the
// server saw is closed once the client closes its idle ones, and that no
// goroutine is left behind.
func TestDownloadNoLeaks(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var open atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/503") {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Length", "100000")
		w.Write(make([]byte, 1000))
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := fastClient()
	c.MaxAttempts, c.MaxResumes = 3, 2
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range 100 {
		wg.Go(func() {
			path := "/cut"
			if i%2 == 1 {
				path = "/503"
			}
			if _, err := c.Download(mustGet(t, srv.URL+path), newMemFile(), nil); err != nil {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() != 100 {
		t.Fatalf("%d of 100 downloads failed, want all", failed.Load())
	}
	c.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for open.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // the server notices closes asynchronously
	}
	if n := open.Load(); n != 0 {
		t.Errorf("%d server connections still open after the client closed its idle ones", n)
	}
}

func TestParseContentRange(t *testing.T) {
	for _, tc := range []struct {
		in                 string
		first, last, total int64
		ok                 bool
	}{
		{"bytes 0-499/1234", 0, 499, 1234, true},
		{"bytes 500-1233/1234", 500, 1233, 1234, true},
		{"bytes 500-999/*", 500, 999, -1, true},
		{"bytes */1234", -1, -1, 1234, true},
		{"bytes */*", 0, 0, 0, false},
		{"bytes 500-1234/1234", 0, 0, 0, false},
		{"bytes 5-4/10", 0, 0, 0, false},
		{"bytes -1-4/10", 0, 0, 0, false},
		{"bytes +1-4/10", 0, 0, 0, false},
		{"bytes 1-4/", 0, 0, 0, false},
		{"bytes 1-/10", 0, 0, 0, false},
		{"bytes 0-99999999999999999999/*", 0, 0, 0, false},
		{"items 0-4/10", 0, 0, 0, false},
		{"bytes=0-4/10", 0, 0, 0, false},
		{"", 0, 0, 0, false},
	} {
		first, last, total, ok := parseContentRange(tc.in)
		if ok != tc.ok || (ok && (first != tc.first || last != tc.last || total != tc.total)) {
			t.Errorf("parseContentRange(%q) = %d, %d, %d, %v; want %d, %d, %d, %v",
				tc.in, first, last, total, ok, tc.first, tc.last, tc.total, tc.ok)
		}
	}
}

func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-499/1234", "bytes 1-2/*", "bytes */5", "bytes 9223372036854775806-9223372036854775806/9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		first, last, total, ok := parseContentRange(s)
		if !ok {
			return
		}
		if first == -1 {
			if last != -1 || total < 0 {
				t.Fatalf("%q: unsatisfied-range form with %d-%d/%d", s, first, last, total)
			}
			return
		}
		if first < 0 || first > last || (total >= 0 && last >= total) {
			t.Fatalf("%q: inconsistent range %d-%d/%d", s, first, last, total)
		}
		canon := fmt.Sprintf("bytes %d-%d/%d", first, last, total)
		if total < 0 {
			canon = fmt.Sprintf("bytes %d-%d/*", first, last)
		}
		f2, l2, t2, ok2 := parseContentRange(canon)
		if !ok2 || f2 != first || l2 != last || t2 != total {
			t.Fatalf("%q: canonical form %q parses as %d-%d/%d %v", s, canon, f2, l2, t2, ok2)
		}
	})
}

// BenchmarkDownload measures the per-byte cost of the download path (stall
// timer, copy, bookkeeping) on an in-memory transport.
func BenchmarkDownload(b *testing.B) {
	body := randomBody(8<<20, 8)
	c := &Client{Transport: rtFunc(func(*http.Request) (*http.Response, error) {
		resp := reply(http.StatusOK, "")
		resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		return resp, nil
	})}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := c.Download(mustGet(b, "http://bench.invalid/x.zip"), discardFile{}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

type discardFile struct{}

func (discardFile) Write(p []byte) (int, error)    { return len(p), nil }
func (discardFile) Seek(int64, int) (int64, error) { return 0, nil }
func (discardFile) Truncate(int64) error           { return nil }

// cuttingTransport serves body, honouring "Range: bytes=N-", but every
// response breaks off after cut bytes with io.ErrUnexpectedEOF, even one
// that delivered the rest of the body.
func cuttingTransport(body string, cut int) *fakeTransport {
	return &fakeTransport{serve: func(_ int, req *http.Request) (*http.Response, error) {
		start := 0
		if rg := req.Header.Get("Range"); rg != "" {
			start, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-"))
		}
		resp := reply(http.StatusOK, "", "ETag", `"x"`)
		if start > 0 {
			resp = reply(http.StatusPartialContent, "", "ETag", `"x"`,
				"Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(body)-1, len(body)))
		}
		rest := body[start:]
		resp.ContentLength = int64(len(rest))
		resp.Body = &truncatedBody{strings.NewReader(rest[:min(cut, len(rest))])}
		return resp, nil
	}}
}

func TestDownloadResumeLimits(t *testing.T) {
	body := strings.Repeat("0123456789", 10)
	for _, tc := range []struct {
		name     string
		c        *Client
		requests int
		err      string
	}{
		{"MaxResumes 3", &Client{MaxResumes: 3}, 4,
			"unexpected EOF; not retrying: resumed 3 times already (MaxResumes) (4 attempts, 3 resumes in "},
		{"MaxResumes negative", &Client{MaxResumes: -1}, 1,
			"unexpected EOF; not retrying: resuming is off (MaxResumes < 0)"},
		{"Disabled", &Client{Disabled: true}, 1, ": unexpected EOF"},
		{"enough resumes", &Client{}, 10, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ft := cuttingTransport(body, 10)
				tc.c.Transport = ft
				f := newMemFile()
				_, err := tc.c.Download(mustGet(t, "http://proxy.test/m.zip"), f, nil)
				if ft.count() != tc.requests {
					t.Errorf("%d requests, want %d", ft.count(), tc.requests)
				}
				if tc.err == "" {
					if err != nil || string(f.bytes()) != body {
						t.Errorf("got %q, %v", f.bytes(), err)
					}
					return
				}
				if Classify(context.Background(), err, nil) != Truncated || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("err %v, want class truncated and %q", err, tc.err)
				}
			})
		})
	}
}
