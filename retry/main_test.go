package retry

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: a
// canceled hedge, a stall timer or an idle connection's loops.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeTransport answers requests from a function, in memory, so that tests
// under testing/synctest control time completely.
type fakeTransport struct {
	mu    sync.Mutex
	reqs  []*http.Request
	times []time.Time
	serve func(i int, req *http.Request) (*http.Response, error)
}

func (f *fakeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	i := len(f.reqs)
	f.reqs = append(f.reqs, req)
	f.times = append(f.times, time.Now())
	f.mu.Unlock()
	return f.serve(i, req)
}

func (f *fakeTransport) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs)
}

type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// reply builds a response with a body and header pairs.
func reply(code int, body string, header ...string) *http.Response {
	h := make(http.Header)
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	return &http.Response{
		StatusCode:    code,
		Status:        fmt.Sprintf("%d %s", code, http.StatusText(code)),
		Header:        h,
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		ProtoMajor:    1, ProtoMinor: 1,
	}
}

func errRefused() error {
	return &net.OpError{Op: "dial", Net: "tcp", Err: errnoCases[0].err}
}

func mustGet(t testing.TB, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
