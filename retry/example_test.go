package retry_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/modkit/modkit/retry"
)

// A proxy that is briefly overloaded answers 503 twice; GetBytes waits as
// told by Retry-After and returns the body of the third answer.
func Example() {
	var n atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, `{"Version":"v1.2.3"}`)
	}))
	defer proxy.Close()

	c := &retry.Client{
		OnRetry: func(ev retry.Event) {
			fmt.Printf("attempt %d: %d (%v), retrying\n", ev.Attempt, ev.StatusCode, ev.Class)
		},
	}
	defer c.CloseIdleConnections()
	req, _ := http.NewRequest("GET", proxy.URL+"/example.com/m/@latest", nil)
	body, err := c.GetBytes(req, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(body))
	// Output:
	// attempt 1: 503 (throttled), retrying
	// attempt 2: 503 (throttled), retrying
	// {"Version":"v1.2.3"}
}

// Classify turns errors and statuses into classes that say whether to
// retry and what to tell the user.
func ExampleClassify() {
	ctx := context.Background()
	notFound := &http.Response{StatusCode: http.StatusNotFound}
	for _, c := range []retry.Class{
		retry.Classify(ctx, nil, notFound),
		retry.Classify(ctx, nil, &http.Response{StatusCode: http.StatusTooManyRequests}),
		retry.Classify(ctx, fmt.Errorf("reading body: %w", io.ErrUnexpectedEOF), nil),
	} {
		fmt.Printf("%-10s retry=%-5v %s\n", c, c.Retryable(), strings.SplitN(c.Explain(), ":", 2)[0])
	}

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	fmt.Println(retry.Classify(canceled, context.DeadlineExceeded, nil))
	// Output:
	// not-found  retry=false not found (404/410)
	// throttled  retry=true  throttled (429/503)
	// truncated  retry=true  truncated body
	// canceled
}

// Download streams a module zip into a file, resuming after a connection
// is cut mid-body.
func ExampleClient_Download() {
	zip := strings.Repeat("zipdata!", 64<<10)
	var cut atomic.Bool
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cut.CompareAndSwap(false, true) {
			// Announce the whole body, send half and hang up.
			w.Header().Set("Content-Length", fmt.Sprint(len(zip)))
			io.WriteString(w, zip[:len(zip)/2])
			return
		}
		http.ServeContent(w, r, "v1.0.0.zip", time.Time{}, strings.NewReader(zip))
	}))
	defer proxy.Close()

	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	f, _ := os.Create(filepath.Join(dir, "v1.0.0.zip"))
	defer f.Close()

	c := &retry.Client{
		OnResume: func(ev retry.Event) { fmt.Println("resuming at byte", ev.Offset) },
	}
	defer c.CloseIdleConnections()
	req, _ := http.NewRequest("GET", proxy.URL+"/example.com/m/@v/v1.0.0.zip", nil)
	n, err := c.Download(req, f, &retry.DownloadOptions{ExpectedSize: int64(len(zip))})
	fmt.Println(n, err)
	// Output:
	// resuming at byte 262144
	// 524288 <nil>
}

// A 404 is an answer, not a failure worth retrying: one request, and the
// error matches fs.ErrNotExist so that the caller can fall back to the
// next proxy.
func ExampleError() {
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "not found: unknown revision v9.9.9\n")
	}))
	defer proxy.Close()

	c := new(retry.Client)
	defer c.CloseIdleConnections()
	req, _ := http.NewRequest("GET", proxy.URL+"/example.com/m/@v/v9.9.9.info", nil)
	_, err := c.GetBytes(req, 0)
	var e *retry.Error
	if errors.As(err, &e) {
		fmt.Println(e.Class, e.StatusCode, e.Attempts, errors.Is(err, fs.ErrNotExist))
		fmt.Println(e.Detail)
	}
	// Output:
	// not-found 404 1 true
	// not found: unknown revision v9.9.9
}
