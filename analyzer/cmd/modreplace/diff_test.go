package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestUnifiedDiff(t *testing.T) {
	lines := func(n int) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "%d\n", i)
		}
		return b.String()
	}
	tests := []struct {
		name, old, new, want string
	}{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"one line changed", "a\nb\nc\n", "a\nB\nc\n", "@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"},
		{"insert at start", "a\n", "z\na\n", "@@ -1 +1,2 @@\n+z\n a\n"},
		{"delete at end", lines(5), lines(4), "@@ -2,4 +2,3 @@\n 2\n 3\n 4\n-5\n"},
		{"from empty", "", "a\n", "@@ -0,0 +1 @@\n+a\n"},
		{"no newline at end", "a\nb", "a\nc", "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"},
		{"far apart changes make two hunks", lines(20), strings.Replace(strings.Replace(lines(20), "2\n", "two\n", 1), "19\n", "nineteen\n", 1),
			"@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n 4\n 5\n@@ -16,5 +16,5 @@\n 16\n 17\n 18\n-19\n+nineteen\n 20\n"},
		{"near changes share a hunk", lines(9), strings.Replace(strings.Replace(lines(9), "2\n", "two\n", 1), "8\n", "eight\n", 1),
			"@@ -1,9 +1,9 @@\n 1\n-2\n+two\n 3\n 4\n 5\n 6\n 7\n-8\n+eight\n 9\n"},
	}
	for _, tt := range tests {
		got := unifiedDiff("old", "new", []byte(tt.old), []byte(tt.new))
		want := tt.want
		if want != "" {
			want = "--- old\n+++ new\n" + want
		}
		if got != want {
			t.Errorf("%s:\n%s\nwant:\n%s", tt.name, got, want)
		}
	}
}

// TestUnifiedDiffApplies checks on random inputs that the diff, applied to
// the old text, gives the new text, and that unchanged lines never appear
// as changes when the texts share them in order.
func TestUnifiedDiffApplies(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	gen := func() []string {
		n := r.IntN(30)
		out := make([]string, n)
		for i := range out {
			out[i] = strconv.Itoa(r.IntN(6)) + "\n"
		}
		return out
	}
	for i := 0; i < 500; i++ {
		a, b := gen(), gen()
		old, new := strings.Join(a, ""), strings.Join(b, "")
		d := unifiedDiff("a", "b", []byte(old), []byte(new))
		got, err := applyUnified(a, d)
		if err != nil || got != new {
			t.Fatalf("applying diff of %q -> %q gave %q, %v:\n%s", old, new, got, err, d)
		}
		removed := strings.Count(d, "\n-") - strings.Count(d, "\n--- ")
		added := strings.Count(d, "\n+") - strings.Count(d, "\n+++ ")
		if lcs := lcsLen(a, b); removed != len(a)-lcs || added != len(b)-lcs {
			t.Fatalf("diff of %q -> %q is not minimal: -%d +%d, LCS %d:\n%s", old, new, removed, added, lcs, d)
		}
	}
}

// applyUnified applies a unified diff made by unifiedDiff to lines.
func applyUnified(lines []string, diff string) (string, error) {
	if diff == "" {
		return strings.Join(lines, ""), nil
	}
	var out []string
	at := 0
	for _, l := range strings.SplitAfter(diff, "\n")[2:] {
		switch {
		case l == "":
		case strings.HasPrefix(l, "@@ "):
			f := strings.Fields(l)
			a0, _ := strconv.Atoi(strings.Split(strings.TrimPrefix(f[1], "-"), ",")[0])
			start := a0 - 1
			if strings.HasSuffix(f[1], ",0") {
				start = a0
			}
			out = append(out, lines[at:start]...)
			at = start
		case l[0] == ' ':
			if lines[at] != l[1:] {
				return "", fmt.Errorf("context %q does not match %q", l[1:], lines[at])
			}
			out = append(out, lines[at])
			at++
		case l[0] == '-':
			at++
		case l[0] == '+':
			out = append(out, l[1:])
		}
	}
	out = append(out, lines[at:]...)
	return strings.Join(out, ""), nil
}

func lcsLen(a, b []string) int {
	prev := make([]int, len(b)+1)
	for i := range a {
		cur := make([]int, len(b)+1)
		for j := range b {
			if a[i] == b[j] {
				cur[j+1] = prev[j] + 1
			} else {
				cur[j+1] = max(cur[j], prev[j+1])
			}
		}
		prev = cur
	}
	return prev[len(b)]
}
