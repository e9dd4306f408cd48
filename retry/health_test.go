package retry

import (
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
