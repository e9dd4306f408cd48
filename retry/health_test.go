package retry

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"testing/synctest"
	"time"
)

// TestAdaptiveBackoff checks that with AdaptiveBackoff a host that answers
// most requests gets sporadic failures retried after at most 2·BaseDelay,
// however many times one request fails, while a host that fails everything
// is backed off exponentially.
func TestAdaptiveBackoff(t *testing.T) {
	const base = 100 * time.Millisecond
	run := func(t *testing.T, adaptive bool, healthyFirst int) []time.Duration {
		var delays []time.Duration
		synctest.Test(t, func(t *testing.T) {
			// The first healthyFirst requests succeed; then one request
			// fails six times before it succeeds.
			ft := &fakeTransport{serve: func(i int, req *http.Request) (*http.Response, error) {
				if i < healthyFirst || i >= healthyFirst+6 {
					return reply(200, "ok"), nil
				}
				return nil, errRefused()
			}}
			c := &Client{Transport: ft, BaseDelay: base, MaxDelay: time.Minute, MaxAttempts: 10,
				AdaptiveBackoff: adaptive, HedgeDisabled: true, Rand: rand.New(rand.NewPCG(1, 2)),
				OnRetry: func(ev Event) { delays = append(delays, ev.Delay) }}
			for i := 0; i <= healthyFirst; i++ {
				if _, err := c.GetBytes(mustGet(t, "http://proxy.test/x"), 0); err != nil {
					t.Fatal(err)
				}
			}
		})
		return delays
	}

	t.Run("healthy host", func(t *testing.T) {
		delays := run(t, true, 40)
		if len(delays) != 6 {
			t.Fatalf("%d retries, want 6", len(delays))
		}
		for i, d := range delays {
			if d > 2*base {
				t.Errorf("retry %d waited %v, more than 2·BaseDelay on a healthy host", i+1, d)
			}
		}
	})
	t.Run("struggling host", func(t *testing.T) {
		delays := run(t, true, 0)
		var longest time.Duration
		for _, d := range delays {
			longest = max(longest, d)
		}
		if longest <= 2*base {
			t.Errorf("delays %v never grew past 2·BaseDelay on a host failing everything", delays)
		}
	})
	t.Run("off", func(t *testing.T) {
		delays := run(t, false, 40)
		var longest time.Duration
		for _, d := range delays {
			longest = max(longest, d)
		}
		if longest <= 2*base {
			t.Errorf("without AdaptiveBackoff, delays %v never grew past 2·BaseDelay", delays)
		}
	})
}

// TestAdaptiveThrottle checks what AdaptiveBackoff does with a 429 or 503
// that has no Retry-After: on a host that answers most requests it is a
// sporadic failure, retried after at most 2·BaseDelay; on a host that
// throttles broadly (here from its first answer) the wait grows from
// ThrottleBaseDelay; and a Retry-After is waited out exactly, healthy host
// or not.
func TestAdaptiveThrottle(t *testing.T) {
	const base, throttle = 100 * time.Millisecond, time.Second
	// run makes healthyFirst requests succeed, then has one request
	// answered 503 (with a Retry-After of retryAfter, if set) four times
	// before it succeeds, and returns the delays before its retries.
	run := func(t *testing.T, healthyFirst int, retryAfter string) []time.Duration {
		var delays []time.Duration
		synctest.Test(t, func(t *testing.T) {
			ft := &fakeTransport{serve: func(i int, req *http.Request) (*http.Response, error) {
				if i < healthyFirst || i >= healthyFirst+4 {
					return reply(200, "ok"), nil
				}
				if retryAfter != "" {
					return reply(503, "", "Retry-After", retryAfter), nil
				}
				return reply(503, ""), nil
			}}
			c := &Client{Transport: ft, BaseDelay: base, ThrottleBaseDelay: throttle, MaxDelay: time.Minute,
				MaxAttempts: 10, AdaptiveBackoff: true, HedgeDisabled: true, Rand: rand.New(rand.NewPCG(1, 2)),
				OnRetry: func(ev Event) {
					if ev.Class != Throttled {
						t.Errorf("retry class %v, want throttled", ev.Class)
					}
					delays = append(delays, ev.Delay)
				}}
			for i := 0; i <= healthyFirst; i++ {
				if _, err := c.GetBytes(mustGet(t, "http://proxy.test/x"), 0); err != nil {
					t.Fatal(err)
				}
			}
		})
		if len(delays) != 4 {
			t.Fatalf("%d retries, want 4", len(delays))
		}
		return delays
	}

	t.Run("healthy host", func(t *testing.T) {
		for i, d := range run(t, 40, "") {
			if d > 2*base {
				t.Errorf("retry %d waited %v, more than 2·BaseDelay for a sporadic 503 on a healthy host", i+1, d)
			}
		}
	})
	t.Run("throttling host", func(t *testing.T) {
		delays := run(t, 0, "")
		var total time.Duration
		for _, d := range delays {
			total += d
		}
		// Four draws from [0, 1s], [0, 2s], [0, 4s], [0, 8s].
		if total <= 8*base {
			t.Errorf("delays %v: no throttle backoff for a host throttling from its first answer", delays)
		}
	})
	for _, healthy := range []int{0, 40} {
		t.Run(fmt.Sprintf("Retry-After, %d answers first", healthy), func(t *testing.T) {
			for i, d := range run(t, healthy, "3") {
				if d != 3*time.Second {
					t.Errorf("retry %d waited %v, want the 3s of Retry-After", i+1, d)
				}
			}
		})
	}
}
