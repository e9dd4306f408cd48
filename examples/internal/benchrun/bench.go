package benchrun

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// ParseLatencies parses a comma-separated list of durations such as
// "0,10ms,50ms"; a bare 0 is no latency.
func ParseLatencies(s string) ([]time.Duration, error) {
	var lats []time.Duration
	for _, f := range strings.Split(s, ",") {
		if f == "0" {
			lats = append(lats, 0)
			continue
		}
		d, err := time.ParseDuration(f)
		if err != nil {
			return nil, err
		}
		lats = append(lats, d)
	}
	return lats, nil
}

// Median returns the median of xs (the upper one of an even count), or
// the zero value for none.
func Median[T cmp.Ordered](xs []T) T {
	if len(xs) == 0 {
		var zero T
		return zero
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
