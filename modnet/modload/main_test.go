package modload_test

import (
	"testing"

	"golang.org/x/mod/modfile"

	"github.com/modkit/modkit/modnet/modload"
)

// TestPruned covers the go directive forms, prereleases of 1.17 among
// them: the go command orders 1.17beta1 < 1.17rc1 < 1.17 < 1.17.0.
func TestPruned(t *testing.T) {
	for _, tc := range []struct {
		goLine string // "" for no go directive
		want   bool
	}{
		{"", false}, {"1.16", false}, {"1.16.15", false}, {"1.9", false},
		{"1.17beta1", false}, {"1.17rc1", false}, {"1.17rc2", false},
		{"1.17", true}, {"1.17.0", true}, {"1.18beta1", true}, {"1.21rc1", true}, {"1.100", true},
	} {
		gomod := "module example.com/m\n"
		if tc.goLine != "" {
			gomod += "\ngo " + tc.goLine + "\n"
		}
		f, err := modfile.ParseLax("go.mod", []byte(gomod), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := modload.Pruned(f); got != tc.want {
			t.Errorf("Pruned(go %q) = %v, want %v", tc.goLine, got, tc.want)
		}
	}
}
