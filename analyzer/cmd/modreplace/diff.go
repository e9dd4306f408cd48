package main

import (
	"fmt"
	"slices"
	"strings"
)

// unifiedDiff returns the unified diff (three lines of context) turning
// old into new, or "" if they are equal. The x/tools drivers' diff package
// is internal, so -gomod -diff carries this small one: Myers' O(ND)
// algorithm, cheap for the few lines a fix touches.
func unifiedDiff(oldName, newName string, old, new []byte) string {
	a, b := splitLines(string(old)), splitLines(string(new))
	ops := diffLines(a, b)
	if len(ops) == 0 {
		return ""
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n", oldName, newName)
	const context = 3
	for i := 0; i < len(ops); {
		// A hunk takes every change within 2*context lines of the previous.
		j := i
		for j+1 < len(ops) && ops[j+1].a0-ops[j].a1 <= 2*context {
			j++
		}
		a0 := max(ops[i].a0-context, 0)
		a1 := min(ops[j].a1+context, len(a))
		b0 := ops[i].b0 - (ops[i].a0 - a0)
		b1 := ops[j].b1 + (a1 - ops[j].a1)
		fmt.Fprintf(&sb, "@@ -%s +%s @@\n", hunkRange(a0, a1), hunkRange(b0, b1))
		at := a0
		for _, op := range ops[i : j+1] {
			writeLines(&sb, " ", a[at:op.a0])
			writeLines(&sb, "-", a[op.a0:op.a1])
			writeLines(&sb, "+", b[op.b0:op.b1])
			at = op.a1
		}
		writeLines(&sb, " ", a[at:a1])
		i = j + 1
	}
	return sb.String()
}

// hunkRange formats the lines [lo, hi) (0-based) as a unified diff range.
func hunkRange(lo, hi int) string {
	switch n := hi - lo; n {
	case 0:
		return fmt.Sprintf("%d,0", lo)
	case 1:
		return fmt.Sprintf("%d", lo+1)
	default:
		return fmt.Sprintf("%d,%d", lo+1, n)
	}
}

func writeLines(sb *strings.Builder, prefix string, lines []string) {
	for _, l := range lines {
		sb.WriteString(prefix)
		sb.WriteString(l)
		if !strings.HasSuffix(l, "\n") {
			sb.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

// splitLines splits s after each newline; a last line without one is kept.
func splitLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// A change replaces lines a[a0:a1] with b[b0:b1].
type change struct{ a0, a1, b0, b1 int }

// diffLines returns the changes turning a into b, in order, using Myers'
// greedy shortest-edit-script algorithm, keeping the frontier of each step
// for the walk back.
func diffLines(a, b []string) []change {
	n, m := len(a), len(b)
	off := n + m + 1
	v := make([]int, 2*off+1) // v[off+k]: furthest x on diagonal k
	var trace [][]int         // trace[d]: v before step d
	steps := 0
search:
	for d := 0; d <= n+m; d++ {
		trace = append(trace, slices.Clone(v))
		for k := -d; k <= d; k += 2 {
			x := v[off+k-1] + 1 // right: delete a[x]
			if k == -d || k != d && v[off+k-1] < v[off+k+1] {
				x = v[off+k+1] // down: insert b[y]
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			v[off+k] = x
			if x >= n && y >= m {
				steps = d
				break search
			}
		}
	}
	// Walk back from (n, m): step d is one insertion or deletion from the
	// furthest point of step d-1, then a run of equal lines, which needs
	// no output.
	var rev []change
	x, y := n, m
	for d := steps; d > 0; d-- {
		pv := trace[d]
		k := x - y
		prevK := k - 1
		if k == -d || k != d && pv[off+k-1] < pv[off+k+1] {
			prevK = k + 1
		}
		px := pv[off+prevK]
		py := px - prevK
		if prevK == k+1 {
			rev = append(rev, change{px, px, py, py + 1})
		} else {
			rev = append(rev, change{px, px + 1, py, py})
		}
		x, y = px, py
	}
	var out []change
	for i := len(rev) - 1; i >= 0; i-- {
		c := rev[i]
		if len(out) > 0 && out[len(out)-1].a1 == c.a0 && out[len(out)-1].b1 == c.b0 {
			out[len(out)-1].a1, out[len(out)-1].b1 = c.a1, c.b1
		} else {
			out = append(out, c)
		}
	}
	return out
}
