package benchrun

import (
	"slices"
	"testing"
	"time"
)

func TestParseLatencies(t *testing.T) {
	got, err := ParseLatencies("0,10ms,1.5s")
	if want := []time.Duration{0, 10 * time.Millisecond, 1500 * time.Millisecond}; err != nil || !slices.Equal(got, want) {
		t.Errorf("ParseLatencies = %v, %v; want %v", got, err, want)
	}
	if _, err := ParseLatencies("10"); err == nil {
		t.Error("a number without a unit parsed")
	}
}

func TestMedian(t *testing.T) {
	if m := Median([]time.Duration{3, 1, 2}); m != 2 {
		t.Errorf("Median = %v", m)
	}
	if m := Median([]int{4, 1, 3, 2}); m != 3 {
		t.Errorf("Median of an even count = %v, want the upper middle", m)
	}
	if m := Median[int](nil); m != 0 {
		t.Errorf("Median of none = %v", m)
	}
}
