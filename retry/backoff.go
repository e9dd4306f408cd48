package retry

import (
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// fullJitter returns a delay drawn uniformly from [0, min(max, base·2^n)]
// ("full jitter": spreading clients over the whole window is what keeps a
// recovering server from being hit by synchronized waves). It saturates
// instead of overflowing for any n.
func fullJitter(draw func(int64) int64, base, max time.Duration, n int) time.Duration {
	if base <= 0 || max <= 0 {
		return 0
	}
	ceil := max
	if n < 0 {
		n = 0
	}
	if n < 62 && base <= max>>uint(n) {
		ceil = base << uint(n)
	}
	if ceil == math.MaxInt64 {
		return time.Duration(draw(int64(ceil)))
	}
	return time.Duration(draw(int64(ceil) + 1))
}

// lockedRand serialises a caller-supplied *rand.Rand, which is not safe for
// concurrent use; a nil one uses the package-level source, which is.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

// int64N returns a value in [0, n).
func (l *lockedRand) int64N(n int64) int64 {
	if n <= 0 {
		return 0
	}
	if l.r == nil {
		return rand.Int64N(n)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Int64N(n)
}

// maxRetryAfter is what an absurdly large Retry-After saturates to; any
// realistic RetryAfterMax rejects it.
const maxRetryAfter = time.Duration(math.MaxInt64)

// parseRetryAfter interprets a Retry-After value (RFC 9110, section 10.2.3)
// relative to now: either delay-seconds (digits only, so "-1" and "1.5" are
// invalid) or an HTTP-date in any of the three forms http.ParseTime
// accepts. A date in the past means "now" (0). Huge values saturate rather
// than wrap. ok is false when the value is absent or invalid.
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDigits(v) {
		const limit = math.MaxInt64 / int64(time.Second)
		var secs int64
		for i := 0; i < len(v); i++ {
			digit := int64(v[i] - '0')
			if secs > (limit-digit)/10 {
				return maxRetryAfter, true
			}
			secs = secs*10 + digit
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
