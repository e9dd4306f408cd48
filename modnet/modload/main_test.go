package modload

import "testing"

// TestGoVersionAtLeast covers the go directive forms.
func TestGoVersionAtLeast(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want bool
	}{
		{"1.16", false}, {"1.17", true}, {"1.17.0", true}, {"1.21rc1", true}, {"1.9", false},
		{"1.16.15", false}, {"2", true}, {"1", false}, {"", false},
	} {
		if got := goVersionAtLeast(tc.v, 1, 17); got != tc.want {
			t.Errorf("goVersionAtLeast(%q, 1.17) = %v, want %v", tc.v, got, tc.want)
		}
	}
}
