package retry

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

func TestFullJitterCeiling(t *testing.T) {
	top := func(n int64) int64 { return n - 1 } // the largest draw
	for _, tc := range []struct {
		base, max time.Duration
		n         int
		want      time.Duration
	}{
		{100 * time.Millisecond, time.Second, 0, 100 * time.Millisecond},
		{100 * time.Millisecond, time.Second, 3, 800 * time.Millisecond},
		{100 * time.Millisecond, time.Second, 4, time.Second},
		{100 * time.Millisecond, time.Second, 62, time.Second},
		{100 * time.Millisecond, time.Second, 63, time.Second},
		{100 * time.Millisecond, time.Second, 1 << 30, time.Second},
		{100 * time.Millisecond, time.Second, math.MaxInt, time.Second},
		{100 * time.Millisecond, time.Second, -5, 100 * time.Millisecond},
		{time.Duration(math.MaxInt64 / 2), time.Duration(math.MaxInt64), 1, time.Duration(math.MaxInt64) - 1},
		{time.Duration(math.MaxInt64), time.Duration(math.MaxInt64), 70, time.Duration(math.MaxInt64) - 1},
		{0, time.Second, 3, 0},
		{time.Second, 0, 3, 0},
	} {
		if got := fullJitter(top, tc.base, tc.max, tc.n); got != tc.want {
			t.Errorf("fullJitter(top, %v, %v, %d) = %v, want %v", tc.base, tc.max, tc.n, got, tc.want)
		}
		if got := fullJitter(func(int64) int64 { return 0 }, tc.base, tc.max, tc.n); got != 0 {
			t.Errorf("fullJitter(zero, %v, %v, %d) = %v, want 0", tc.base, tc.max, tc.n, got)
		}
	}
	// Every draw stays in [0, ceiling].
	r := rand.New(rand.NewPCG(7, 7))
	for n := range 100 {
		ceil := min(time.Second, 10*time.Millisecond<<min(n, 20))
		if d := fullJitter(r.Int64N, 10*time.Millisecond, time.Second, n); d < 0 || d > ceil {
			t.Fatalf("retry %d: delay %v outside [0, %v]", n, d, ceil)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(1994, time.November, 6, 8, 48, 7, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 120 * time.Second, true},
		{" 7 ", 7 * time.Second, true},
		{"0", 0, true},
		{"007", 7 * time.Second, true},
		{"Sun, 06 Nov 1994 08:49:37 GMT", 90 * time.Second, true},  // IMF-fixdate
		{"Sunday, 06-Nov-94 08:49:37 GMT", 90 * time.Second, true}, // RFC 850
		{"Sun Nov  6 08:49:37 1994", 90 * time.Second, true},       // ANSI C asctime
		{"Sun, 06 Nov 1994 08:00:00 GMT", 0, true},                 // in the past: now
		{"Sun, 06 Nov 2094 08:48:07 GMT", now.AddDate(100, 0, 0).Sub(now), true},
		{"9223372036", 9223372036 * time.Second, true},
		{"9223372037", maxRetryAfter, true},
		{"99999999999999999999999999", maxRetryAfter, true},
		{"-1", 0, false},
		{"+5", 0, false},
		{"1.5", 0, false},
		{"1e3", 0, false},
		{"soon", 0, false},
		{"Sun, 06 Nov 1994", 0, false},
		{"", 0, false},
		{"   ", 0, false},
	} {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
		"Sun Nov  6 08:49:37 1994", "-1", "99999999999999999999", ""} {
		f.Add(s)
	}
	now := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseRetryAfter(s, now)
		if d < 0 {
			t.Fatalf("parseRetryAfter(%q) = %v, negative", s, d)
		}
		if !ok && d != 0 {
			t.Fatalf("parseRetryAfter(%q) = %v with ok false", s, d)
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 && n <= math.MaxInt64/int64(time.Second) && isDigits(s) {
			if !ok || d != time.Duration(n)*time.Second {
				t.Fatalf("parseRetryAfter(%q) = %v, %v; want %ds", s, d, ok, n)
			}
		}
	})
}
