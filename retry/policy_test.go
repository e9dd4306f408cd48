package retry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// The tests in this file run under testing/synctest with an in-memory
// Transport: every delay is exact and none is actually slept.

func TestBackoffSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTransport{serve: func(int, *http.Request) (*http.Response, error) { return nil, errRefused() }}
		var delays []time.Duration
		c := &Client{
			Transport: ft, Rand: rand.New(rand.NewPCG(1, 2)), MaxAttempts: 7,
			BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second,
			OnRetry: func(ev Event) {
				if ev.Class != Refused || ev.Err == nil || ev.StatusCode != 0 {
					t.Errorf("OnRetry event %+v, want class refused with its error", ev)
				}
				delays = append(delays, ev.Delay)
			},
		}
		start := time.Now()
		_, err := c.GetBytes(mustGet(t, "http://proxy.test/m/@v/list"), 0)
		var e *Error
		if !errors.As(err, &e) || e.Class != Refused || e.Attempts != 7 {
			t.Fatalf("err %v, want class refused after 7 attempts", err)
		}
		// Golden values for this seed: a change means the schedule changed.
		want := []time.Duration{76937327, 123287245, 313771201, 637277263, 234276270, 41205257}
		if !equal(delays, want) {
			t.Errorf("delays %v, want %v", delays, want)
		}
		var total time.Duration
		for i, d := range delays {
			if ceil := min(time.Second, 100*time.Millisecond<<i); d < 0 || d > ceil {
				t.Errorf("retry %d: delay %v outside [0, %v]", i, d, ceil)
			}
			if gap := ft.times[i+1].Sub(ft.times[i]); gap != d {
				t.Errorf("attempt %d came %v after the previous one, want %v", i+2, gap, d)
			}
			total += d
		}
		if e.Elapsed != total || time.Since(start) != total {
			t.Errorf("Elapsed %v, want the sum of the delays %v", e.Elapsed, total)
		}
	})
}

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name     string
		first    *http.Response
		elapsed  time.Duration
		requests int
		err      string
	}{
		{"seconds", reply(503, "", "Retry-After", "3"), 3 * time.Second, 2, ""},
		{"http-date", reply(429, "", "Retry-After", "Sat, 01 Jan 2000 00:00:20 GMT"), 20 * time.Second, 2, ""},
		{"past date", reply(429, "", "Retry-After", "Fri, 31 Dec 1999 23:59:59 GMT"), 0, 2, ""},
		{"garbage", reply(503, "", "Retry-After", "soon"), 881547001, 2, ""}, // throttle backoff instead
		{"too long", reply(503, "", "Retry-After", "120"), 0, 1,
			"GET http://proxy.test/x: 503 Service Unavailable; not retrying: server asked to retry after 2m0s, more than RetryAfterMax (30s)"},
		{"huge", reply(429, "", "Retry-After", "99999999999999999999"), 0, 1, "; not retrying: server asked to retry after"},
		{"not on 500", reply(500, "", "Retry-After", "20"), 220386750, 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				if !time.Now().Equal(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) {
					t.Fatalf("synctest epoch moved: %v", time.Now())
				}
				ft := &fakeTransport{serve: func(i int, _ *http.Request) (*http.Response, error) {
					if i == 0 {
						return tc.first, nil
					}
					return reply(200, "ok"), nil
				}}
				c := &Client{Transport: ft, Rand: rand.New(rand.NewPCG(3, 4))}
				start := time.Now()
				body, err := c.GetBytes(mustGet(t, "http://proxy.test/x"), 0)
				if el := time.Since(start); el != tc.elapsed {
					t.Errorf("took %v, want %v", el, tc.elapsed)
				}
				if ft.count() != tc.requests {
					t.Errorf("%d requests, want %d", ft.count(), tc.requests)
				}
				if tc.err == "" {
					if err != nil || string(body) != "ok" {
						t.Errorf("got %q, %v", body, err)
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrRetryAfterTooLong) {
					t.Errorf("err %v, want ErrRetryAfterTooLong and %q", err, tc.err)
				}
			})
		})
	}
}

func TestDeadlineNotSlept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTransport{serve: func(int, *http.Request) (*http.Response, error) {
			return reply(503, "", "Retry-After", "1"), nil
		}}
		c := &Client{Transport: ft, MaxAttempts: 100}
		ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.GetBytes(mustGet(t, "http://proxy.test/x").WithContext(ctx), 0)
		// Attempts at 0s, 1s and 2s; the fourth would start after the deadline.
		if el := time.Since(start); el != 2*time.Second || ft.count() != 3 {
			t.Errorf("gave up after %v and %d requests, want 2s and 3", el, ft.count())
		}
		want := "GET http://proxy.test/x: 503 Service Unavailable; not retrying: the next attempt, in 1s, would start after the context deadline (3 attempts in 2s)"
		if err == nil || err.Error() != want {
			t.Errorf("err:\n%v\nwant:\n%s", err, want)
		}
		if Classify(ctx, err, nil) != Throttled {
			t.Errorf("class %v, want throttled", Classify(ctx, err, nil))
		}
	})
}

func TestCanceledWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTransport{serve: func(int, *http.Request) (*http.Response, error) { return nil, errRefused() }}
		c := &Client{Transport: ft, BaseDelay: 10 * time.Second, MaxDelay: 10 * time.Second, Rand: rand.New(rand.NewPCG(1, 1))}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(500*time.Millisecond, cancel)
		_, err := c.GetBytes(mustGet(t, "http://proxy.test/x").WithContext(ctx), 0)
		var e *Error
		if !errors.As(err, &e) || e.Class != Canceled || !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want class canceled matching context.Canceled", err)
		}
		if !strings.Contains(err.Error(), "connection refused; not retrying: context canceled") {
			t.Errorf("err %q does not say what failed before the cancellation", err)
		}
		if ft.count() != 1 {
			t.Errorf("%d requests, want 1", ft.count())
		}
	})
}

func TestWhatIsRetried(t *testing.T) {
	refused := func(int, *http.Request) (*http.Response, error) { return nil, errRefused() }
	status := func(code int) func(int, *http.Request) (*http.Response, error) {
		return func(int, *http.Request) (*http.Response, error) { return reply(code, "x"), nil }
	}
	for _, tc := range []struct {
		name     string
		client   *Client
		method   string
		serve    func(int, *http.Request) (*http.Response, error)
		requests int
		status   int // Do's response status, or 0 for an error
	}{
		{"GET refused", &Client{}, "GET", refused, 5, 0},
		{"HEAD 502", &Client{}, "HEAD", status(502), 5, 502},
		{"GET 404", &Client{}, "GET", status(404), 1, 404},
		{"GET 501", &Client{}, "GET", status(501), 1, 501},
		{"GET 401", &Client{}, "GET", status(401), 1, 401},
		{"POST 503", &Client{}, "POST", status(503), 1, 503},
		{"POST refused", &Client{}, "POST", refused, 1, 0},
		{"PUT refused", &Client{}, "PUT", refused, 1, 0},
		{"MaxAttempts 1", &Client{MaxAttempts: 1}, "GET", refused, 1, 0},
		{"MaxAttempts 2", &Client{MaxAttempts: 2}, "GET", status(500), 2, 500},
		{"Disabled", &Client{Disabled: true}, "GET", refused, 1, 0},
		{"Disabled 503", &Client{Disabled: true}, "GET", status(503), 1, 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ft := &fakeTransport{serve: tc.serve}
				c := tc.client
				c.Transport = ft
				var gaveUp int
				c.OnGiveUp = func(*Error) { gaveUp++ }
				req, _ := http.NewRequest(tc.method, "http://proxy.test/x", nil)
				resp, err := c.Do(req)
				if ft.count() != tc.requests {
					t.Errorf("%d requests, want %d", ft.count(), tc.requests)
				}
				if tc.status == 0 {
					var e *Error
					if !errors.As(err, &e) || e.Attempts != tc.requests || e.Method != tc.method {
						t.Errorf("err %v, want a *Error after %d attempts", err, tc.requests)
					}
				} else {
					if err != nil || resp.StatusCode != tc.status {
						t.Fatalf("Do = %v, %v; want status %d", resp, err, tc.status)
					}
					if b, _ := io.ReadAll(resp.Body); tc.method != "HEAD" && string(b) != "x" {
						t.Errorf("body %q, want the last response's", b)
					}
					resp.Body.Close()
				}
				wantGiveUp := 0
				if tc.status == 0 || classifyStatus(tc.status).Retryable() {
					wantGiveUp = 1
				}
				if gaveUp != wantGiveUp {
					t.Errorf("OnGiveUp called %d times, want %d", gaveUp, wantGiveUp)
				}
			})
		})
	}
}

// truncatedBody delivers part of a body and then fails.
type truncatedBody struct{ r io.Reader }

func (b *truncatedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}
func (b *truncatedBody) Close() error { return nil }

func TestGetBytesBody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTransport{serve: func(i int, _ *http.Request) (*http.Response, error) {
			resp := reply(200, "hello, world")
			if i == 0 {
				resp.Body = &truncatedBody{strings.NewReader("hello")}
			}
			return resp, nil
		}}
		var classes []Class
		c := &Client{Transport: ft, OnRetry: func(ev Event) { classes = append(classes, ev.Class) }}
		body, err := c.GetBytes(mustGet(t, "http://proxy.test/x"), 0)
		if err != nil || string(body) != "hello, world" || ft.count() != 2 {
			t.Errorf("got %q, %v after %d requests; want the whole body after 2", body, err, ft.count())
		}
		if !equal(classes, []Class{Truncated}) {
			t.Errorf("retried for %v, want [truncated]", classes)
		}

		_, err = c.GetBytes(mustGet(t, "http://proxy.test/big"), 5)
		if Classify(context.Background(), err, nil) != TooLarge || ft.count() != 3 ||
			!strings.HasSuffix(err.Error(), "response body too large: more than 5 bytes") {
			t.Errorf("limit 5: err %v after %d requests, want too-large after 1", err, ft.count()-2)
		}

		ft.serve = func(int, *http.Request) (*http.Response, error) {
			resp := reply(200, "hello, world")
			resp.ContentLength = -1 // as if chunked: the limit is found while reading
			return resp, nil
		}
		_, err = c.GetBytes(mustGet(t, "http://proxy.test/big"), 5)
		if Classify(context.Background(), err, nil) != TooLarge {
			t.Errorf("limit 5, unknown length: err %v, want too-large", err)
		}

		ft.serve = func(int, *http.Request) (*http.Response, error) { return reply(204, ""), nil }
		_, err = c.GetBytes(mustGet(t, "http://proxy.test/x"), 0)
		if Classify(context.Background(), err, nil) != Protocol || !strings.HasSuffix(err.Error(), ": unexpected status 204 No Content") {
			t.Errorf("204: err %v, want protocol", err)
		}
		if _, err := c.GetBytes(httptestRequest(t, "POST"), 0); err == nil {
			t.Error("GetBytes accepted a POST")
		}
	})
}

func httptestRequest(t *testing.T, method string) *http.Request {
	req, err := http.NewRequest(method, "http://proxy.test/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestRedirects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTransport{serve: func(i int, req *http.Request) (*http.Response, error) {
			if req.URL.Host == "https.test" {
				return reply(302, "", "Location", "http://plain.test/x"), nil
			}
			return reply(302, "", "Location", "/again"), nil
		}}
		c := &Client{Transport: ft, CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
				return errors.New("redirected from secure URL to insecure URL")
			}
			return nil
		}}
		_, err := c.GetBytes(mustGet(t, "https://https.test/x"), 0)
		if Classify(context.Background(), err, nil) != Redirects || ft.count() != 1 {
			t.Errorf("https→http: err %v after %d requests, want class redirects after 1", err, ft.count())
		}
		if err == nil || !strings.Contains(err.Error(), "redirected from secure URL to insecure URL") {
			t.Errorf("err %v does not give CheckRedirect's reason", err)
		}

		ft.reqs = nil
		c2 := &Client{Transport: ft}
		_, err = c2.GetBytes(mustGet(t, "http://loop.test/x"), 0)
		if Classify(context.Background(), err, nil) != Redirects || ft.count() != 10 {
			t.Errorf("loop: err %v after %d requests, want class redirects after 10", err, ft.count())
		}
	})
}

func TestNoCredentialsInLogsOrErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTransport{serve: func(int, *http.Request) (*http.Response, error) { return nil, errRefused() }}
		var log bytes.Buffer
		var events []Event
		var giveUps []*Error
		record := func(ev Event) { events = append(events, ev) }
		c := &Client{
			Transport: ft, MaxAttempts: 2,
			Logger:    slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})),
			OnAttempt: record, OnRetry: record,
			OnGiveUp: func(e *Error) { giveUps = append(giveUps, e) },
		}
		req := mustGet(t, "http://user:hunter2@proxy.test/private/@v/list")
		req.Header.Set("Authorization", "Bearer s3cr3t")
		_, err := c.GetBytes(req, 0)
		for _, s := range []string{log.String(), err.Error()} {
			if strings.Contains(s, "hunter2") || strings.Contains(s, "s3cr3t") {
				t.Errorf("credentials leaked: %s", s)
			}
		}
		for _, msg := range []string{"msg=attempt", "msg=retrying", "msg=\"giving up\"", "class=refused", "url=http://xxxxx@proxy.test/private/@v/list"} {
			if !strings.Contains(log.String(), msg) {
				t.Errorf("log lacks %q:\n%s", msg, log.String())
			}
		}
		if len(events) != 3 || events[0].Attempt != 1 || events[1].Delay == 0 || events[2].Attempt != 2 {
			t.Errorf("events %+v, want attempt 1, retry, attempt 2", events)
		}
		if len(giveUps) != 1 || giveUps[0].Error() != err.Error() {
			t.Errorf("OnGiveUp got %v, want the returned error", giveUps)
		}
	})
}

func TestBudgetConcurrent(t *testing.T) {
	b := &Budget{Capacity: 100, RetryCost: 5}
	var wg sync.WaitGroup
	var taken atomic.Int32
	for range 16 {
		wg.Go(func() {
			for b.take("h", 5) {
				taken.Add(1)
			}
		})
	}
	wg.Wait()
	if taken.Load() != 20 || b.Tokens("h") != 0 {
		t.Fatalf("took %d retries, %d tokens left; want 20 and 0", taken.Load(), b.Tokens("h"))
	}
	if b.Tokens("other") != 100 {
		t.Errorf("another host has %d tokens, want a full 100", b.Tokens("other"))
	}
	for range 16 {
		wg.Go(func() {
			for range 10 {
				b.succeed("h", 0)
			}
		})
	}
	wg.Wait()
	if b.Tokens("h") != 100 {
		t.Errorf("%d tokens after 160 first-try successes, want the capacity 100", b.Tokens("h"))
	}
	b.take("h", 10)
	b.succeed("h", 5) // a success after a retry returns that retry's cost
	if b.Tokens("h") != 95 {
		t.Errorf("%d tokens, want 95", b.Tokens("h"))
	}
	if off := (&Budget{Capacity: -1}); !off.take("h", 1e9) || off.Tokens("h") != -1 {
		t.Error("a disabled budget limits retries")
	}
}

// TestBudgetClients drains one host's budget from many concurrent failing
// requests, checks that it caps the total number of retries exactly and
// fails fast afterwards, and refills it with successes.
func TestBudgetClients(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	ft := &fakeTransport{serve: func(_ int, req *http.Request) (*http.Response, error) {
		if failing.Load() {
			return nil, errRefused()
		}
		return reply(200, "ok"), nil
	}}
	budget := &Budget{}
	c := &Client{Transport: ft, Budget: budget, MaxAttempts: 1000, BaseDelay: time.Nanosecond, MaxDelay: time.Nanosecond}
	var wg sync.WaitGroup
	var exhausted atomic.Int32
	for range 20 {
		wg.Go(func() {
			_, err := c.GetBytes(mustGet(t, "http://dead.test/x"), 0)
			if errors.Is(err, ErrBudgetExhausted) && Classify(context.Background(), err, nil) == BudgetExhausted {
				exhausted.Add(1)
			}
		})
	}
	wg.Wait()
	// 500 tokens at 5 per retry: exactly 100 retries beyond the 20 first attempts.
	if n := ft.count(); n != 120 || exhausted.Load() != 20 {
		t.Fatalf("%d requests, %d budget errors; want 120 and 20", n, exhausted.Load())
	}
	_, err := c.GetBytes(mustGet(t, "http://dead.test/x"), 0)
	if ft.count() != 121 || !errors.Is(err, ErrBudgetExhausted) {
		t.Errorf("empty budget: %d requests, err %v; want one attempt failing fast", ft.count()-120, err)
	}
	want := "GET http://dead.test/x: dial tcp: connect: connection refused; not retrying: retry budget exhausted for dead.test"
	if err == nil || err.Error() != want {
		t.Errorf("err:\n%v\nwant:\n%s", err, want)
	}
	if budget.Tokens("other.test") != 500 {
		t.Errorf("another host's budget was spent")
	}

	failing.Store(false)
	for range 10 {
		wg.Go(func() {
			if _, err := c.GetBytes(mustGet(t, "http://dead.test/x"), 0); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if budget.Tokens("dead.test") != 10 {
		t.Errorf("%d tokens after 10 successes, want 10", budget.Tokens("dead.test"))
	}
	failing.Store(true)
	before := ft.count()
	c.GetBytes(mustGet(t, "http://dead.test/x"), 0)
	if n := ft.count() - before; n != 3 {
		t.Errorf("%d requests with 10 tokens, want 3 (two retries)", n)
	}
}

func TestTimeoutsCostMore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTransport{serve: func(_ int, req *http.Request) (*http.Response, error) {
			<-req.Context().Done()
			return nil, req.Context().Err()
		}}
		c := &Client{Transport: ft, Budget: &Budget{Capacity: 25}, ResponseHeaderTimeout: time.Second, HedgeDisabled: true, MaxAttempts: 100}
		_, err := c.GetBytes(mustGet(t, "http://slow.test/x"), 0)
		if ft.count() != 3 || !errors.Is(err, ErrBudgetExhausted) {
			t.Errorf("%d requests, err %v; want 3 (25 tokens, 10 per timeout retry)", ft.count(), err)
		}
	})
}
