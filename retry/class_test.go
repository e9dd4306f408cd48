package retry

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestClassNames(t *testing.T) {
	seen := map[string]Class{}
	for c := Class(0); c < numClasses; c++ {
		id := c.String()
		if id == "" || id != strings.ToLower(id) || strings.ContainsAny(id, " _") {
			t.Errorf("Class(%d).String() = %q, want a lowercase id", c, id)
		}
		if prev, dup := seen[id]; dup {
			t.Errorf("classes %d and %d share id %q", prev, c, id)
		}
		seen[id] = c
		if ex := c.Explain(); !strings.Contains(ex, ":") || strings.Contains(ex, "\n") {
			t.Errorf("%v.Explain() = %q, want one line \"meaning: advice\"", c, ex)
		}
	}
	if got := Class(-1).String(); got != "unknown" {
		t.Errorf("Class(-1).String() = %q", got)
	}
	if Class(999).Retryable() {
		t.Error("out-of-range class is retryable")
	}
	want := map[Class]bool{
		Refused: true, Reset: true, Unreachable: true, Network: true, Timeout: true,
		DNSTemporary: true, Throttled: true, Server: true, Truncated: true, HTTP2: true,
	}
	for c := Class(0); c < numClasses; c++ {
		if c.Retryable() != want[c] {
			t.Errorf("%v.Retryable() = %v, want %v", c, c.Retryable(), want[c])
		}
	}
}

func TestClassifyStatus(t *testing.T) {
	for _, tc := range []struct {
		code int
		want Class
	}{
		{200, OK}, {206, OK}, {304, OK},
		{400, ClientError}, {401, Auth}, {403, Auth}, {404, NotFound}, {407, Auth},
		{408, Timeout}, {410, NotFound}, {418, ClientError}, {429, Throttled},
		{500, Server}, {501, NotImplemented}, {502, Server}, {503, Throttled}, {504, Server}, {599, Server},
	} {
		if got := Classify(context.Background(), nil, reply(tc.code, "")); got != tc.want {
			t.Errorf("status %d: got %v, want %v", tc.code, got, tc.want)
		}
	}
	if got := Classify(context.Background(), nil, nil); got != Unknown {
		t.Errorf("no error, no response: got %v", got)
	}
}

// h2GoAway has the message of net/http's unexported http2GoAwayError.
type h2GoAway struct{}

func (h2GoAway) Error() string {
	return `http2: server sent GOAWAY and closed the connection; LastStreamID=1, ErrCode=NO_ERROR, debug=""`
}

func TestClassifyErrors(t *testing.T) {
	ctx := context.Background()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	var cases []struct {
		name string
		ctx  context.Context
		err  error
		want Class
	}
	for _, ec := range errnoCases {
		cases = append(cases, struct {
			name string
			ctx  context.Context
			err  error
			want Class
		}{ec.name, ctx, &wrapped{&net.OpError{Op: "read", Net: "tcp", Err: ec.err}}, ec.want})
	}
	for _, tc := range append(cases, []struct {
		name string
		ctx  context.Context
		err  error
		want Class
	}{
		{"other op error", ctx, &net.OpError{Op: "read", Err: errors.New("weird")}, Network},
		{"dns not found", ctx, &net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}, DNSNotFound},
		{"dns temporary", ctx, &net.DNSError{Err: "server misbehaving", Name: "x", IsTemporary: true}, DNSTemporary},
		{"dns timeout", ctx, &net.DNSError{Err: "i/o timeout", Name: "x", IsTimeout: true}, DNSTemporary},
		{"unknown authority", ctx, &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, TLS},
		{"hostname", ctx, fmt.Errorf("get: %w", x509.HostnameError{Host: "h", Certificate: &x509.Certificate{}}), TLS},
		{"expired", ctx, x509.CertificateInvalidError{Reason: x509.Expired}, TLS},
		{"record header", ctx, tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, TLS},
		{"alert", ctx, tls.AlertError(40), TLS},
		{"https to http server", ctx, http.ErrSchemeMismatch, TLS},
		{"unexpected EOF", ctx, fmt.Errorf("read body: %w", io.ErrUnexpectedEOF), Truncated},
		{"EOF before response", ctx, &wrapped{io.EOF}, Reset},
		{"deadline, caller fine", ctx, context.DeadlineExceeded, Timeout},
		{"os deadline", ctx, os.ErrDeadlineExceeded, Timeout},
		{"net timeout", ctx, &net.OpError{Op: "dial", Err: &timeoutError{"x", time.Second}}, Timeout},
		{"stall", ctx, &timeoutError{"no body progress", time.Second}, Timeout},
		{"goaway", ctx, h2GoAway{}, HTTP2},
		{"stream error text", ctx, errors.New("stream error: stream ID 3; INTERNAL_ERROR; received from peer"), HTTP2},
		{"default redirects", ctx, &wrapped{errors.New("stopped after 10 redirects")}, Redirects},
		{"refused redirect", ctx, &redirectError{errors.New("redirected from https to http")}, Redirects},
		{"malformed", ctx, errors.New(`net/http: HTTP/1.x transport connection broken: malformed HTTP response "x"`), Protocol},
		{"budget", ctx, fmt.Errorf("x: %w", ErrBudgetExhausted), BudgetExhausted},
		{"too large", ctx, fmt.Errorf("%w: more than 3 bytes", errTooLarge), TooLarge},
		{"corrupt", ctx, fmt.Errorf("%w: bad hash", errCorrupt), Corrupt},
		{"local", ctx, &localWriteError{errors.New("disk full")}, Local},
		{"*Error keeps its class", ctx, &Error{Class: NotFound}, NotFound},
		{"other", ctx, errors.New("something else"), Unknown},
		// The caller's context decides cancellation, whatever the error says.
		{"canceled ctx, refused err", canceled, errRefused(), Canceled},
		{"canceled ctx, deadline err", canceled, context.DeadlineExceeded, Canceled},
		{"live ctx, canceled err", ctx, context.Canceled, Unknown},
		{"nil ctx", nil, errRefused(), Refused},
	}...) {
		if got := Classify(tc.ctx, tc.err, nil); got != tc.want {
			t.Errorf("%s: Classify(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

// wrapped stands in for net/http's *url.Error wrapping, without a URL.
type wrapped struct{ err error }

func (e *wrapped) Error() string { return `Get "http://h/": ` + e.err.Error() }
func (e *wrapped) Unwrap() error { return e.err }

// rawServer accepts TCP connections on loopback and hands each, after the
// request head has been read, to handle.
func rawServer(t *testing.T, handle func(c *net.TCPConn, r *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r := bufio.NewReader(c)
			if _, err := http.ReadRequest(r); err != nil {
				c.Close()
				continue
			}
			handle(c.(*net.TCPConn), r)
		}
	}()
	return "http://" + ln.Addr().String() + "/"
}

func closedPortURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/"
}

// TestClassifyLoopback produces each failure for real on loopback, with a
// plain http.Client, and checks the class of the error that net/http
// returns (from Do or from reading the body).
func TestClassifyLoopback(t *testing.T) {
	h2 := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		w.Write(make([]byte, 1000))
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}))
	h2.EnableHTTP2 = true
	h2.StartTLS()
	defer h2.Close()
	untrusted := untrustedServer()
	defer untrusted.Close()
	stalled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer stalled.Close()

	for _, tc := range []struct {
		name   string
		url    string
		client *http.Client
		want   Class
	}{
		{"closed port", closedPortURL(t), nil, Refused},
		{"linger-0 reset", rawServer(t, func(c *net.TCPConn, _ *bufio.Reader) {
			c.SetLinger(0)
			c.Close()
		}), nil, Reset},
		{"early close", rawServer(t, func(c *net.TCPConn, _ *bufio.Reader) { c.Close() }), nil, Reset},
		{"short Content-Length", rawServer(t, func(c *net.TCPConn, _ *bufio.Reader) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
			c.Close()
		}), nil, Truncated},
		{"unknown authority", untrusted.URL, nil, TLS},
		{"HTTPS to HTTP server", strings.Replace(stalled.URL, "http:", "https:", 1), nil, TLS},
		{"http2 abort mid-body", h2.URL, h2.Client(), HTTP2},
		{"response header timeout", stalled.URL, &http.Client{Transport: &http.Transport{ResponseHeaderTimeout: 20 * time.Millisecond}}, Timeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := tc.client
			if client == nil {
				tr := &http.Transport{}
				defer tr.CloseIdleConnections()
				client = &http.Client{Transport: tr}
			}
			ctx := context.Background()
			resp, err := client.Do(mustGet(t, tc.url).WithContext(ctx))
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if tc.name == "http2 abort mid-body" && resp.ProtoMajor != 2 {
					t.Errorf("test server spoke HTTP/%d, want 2", resp.ProtoMajor)
				}
			}
			if err == nil {
				t.Fatal("no error")
			}
			if got := Classify(ctx, err, nil); got != tc.want {
				t.Errorf("Classify(%q) = %v, want %v", err, got, tc.want)
			}
		})
	}
}

// TestClientFailuresLoopback checks the *Error the Client returns for real
// failures: class, attempts, message and redaction.
func TestClientFailuresLoopback(t *testing.T) {
	untrusted := untrustedServer()
	defer untrusted.Close()
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		io.WriteString(w, "12345")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer stall.Close()
	noHeaders := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer noHeaders.Close()

	// Generous limits except for the one under test, so that a loaded
	// machine cannot turn a handshake into a timeout.
	quick := func(stall, headers time.Duration) *Client {
		return &Client{
			MaxAttempts: 2, BaseDelay: time.Microsecond, HedgeDisabled: true,
			StallTimeout: stall, ResponseHeaderTimeout: headers,
		}
	}
	for _, tc := range []struct {
		name     string
		c        *Client
		url      string
		class    Class
		attempts int
		msg      string
	}{
		{"refused", quick(0, 0), closedPortURL(t), Refused, 2, "connection refused (2 attempts in"},
		{"tls", quick(0, 0), untrusted.URL, TLS, 1, "certificate"},
		{"stall", quick(30*time.Millisecond, 0), stall.URL, Timeout, 2, "no body progress for 30ms"},
		{"header timeout", quick(0, 30*time.Millisecond), noHeaders.URL, Timeout, 2, "no response headers for 30ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := strings.Replace(tc.url, "://", "://user:secret@", 1)
			defer tc.c.CloseIdleConnections()
			_, err := tc.c.GetBytes(mustGet(t, u), 0)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not a *Error", err, err)
			}
			if e.Class != tc.class || e.Attempts != tc.attempts {
				t.Errorf("class %v after %d attempts, want %v after %d: %v", e.Class, e.Attempts, tc.class, tc.attempts, err)
			}
			if !strings.Contains(err.Error(), tc.msg) || !strings.HasPrefix(err.Error(), "GET "+strings.Replace(tc.url, "://", "://xxxxx@", 1)+": ") {
				t.Errorf("message %q, want the redacted URL and %q", err, tc.msg)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("message leaks the password: %q", err)
			}
			if tc.class == Timeout && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("timeout %v does not match context.DeadlineExceeded", err)
			}
		})
	}
}

func TestNotFoundOneRequest(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusGone)
		io.WriteString(w, "not found: example.com/m@v1.0.0: invalid version\n\nmore")
	}))
	defer srv.Close()
	c := &Client{}
	defer c.CloseIdleConnections()

	_, err := c.GetBytes(mustGet(t, srv.URL+"/m/@v/v1.0.0.info"), 0)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("GetBytes: %v does not match fs.ErrNotExist", err)
	}
	want := "GET " + srv.URL + "/m/@v/v1.0.0.info: 410 Gone\n\tserver response: not found: example.com/m@v1.0.0: invalid version"
	if err == nil || err.Error() != want {
		t.Errorf("GetBytes error:\n%v\nwant:\n%s", err, want)
	}
	_, err = c.Download(mustGet(t, srv.URL+"/m/@v/v1.0.0.zip"), newMemFile(), nil)
	if !errors.Is(err, fs.ErrNotExist) || Classify(context.Background(), err, nil) != NotFound {
		t.Errorf("Download: %v does not match fs.ErrNotExist", err)
	}
	resp, err := c.Do(mustGet(t, srv.URL))
	if err != nil || resp.StatusCode != http.StatusGone {
		t.Fatalf("Do: %v, %v", resp, err)
	}
	resp.Body.Close()
	if n.Load() != 3 {
		t.Errorf("%d requests for 3 calls, want exactly one each", n.Load())
	}
}

func BenchmarkClassify(b *testing.B) {
	errs := []error{
		&wrapped{&net.OpError{Op: "read", Net: "tcp", Err: errnoCases[1].err}},
		fmt.Errorf("reading body: %w", io.ErrUnexpectedEOF),
		errors.New("stream error: stream ID 3; INTERNAL_ERROR; received from peer"),
		errors.New("something else entirely"),
	}
	ctx := context.Background()
	for _, err := range errs {
		b.Run(Classify(ctx, err, nil).String(), func(b *testing.B) {
			for b.Loop() {
				Classify(ctx, err, nil)
			}
		})
	}
}

// untrustedServer is an HTTPS server whose certificate no client here
// trusts; its handshake failures are expected, so they are not logged.
func untrustedServer() *httptest.Server {
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	return srv
}
