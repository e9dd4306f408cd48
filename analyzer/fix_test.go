package analyzer

import (
	"go/token"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"
)

func TestApplyFixes(t *testing.T) {
	src := []byte("0123456789\n")
	fset := token.NewFileSet()
	tf := addFile(fset, "go.mod", src)
	other := addFile(fset, "other.mod", src)
	edit := func(f *token.File, start, end int, text string) analysis.Diagnostic {
		return analysis.Diagnostic{SuggestedFixes: []analysis.SuggestedFix{{TextEdits: []analysis.TextEdit{{Pos: f.Pos(start), End: f.Pos(end), NewText: []byte(text)}}}}}
	}
	tests := []struct {
		name  string
		diags []analysis.Diagnostic
		want  string
		n     int
	}{
		{"replace and insert", []analysis.Diagnostic{edit(tf, 0, 2, "AB"), edit(tf, 5, 5, "+")}, "AB234+56789\n", 2},
		{"overlap skipped", []analysis.Diagnostic{edit(tf, 0, 4, ""), edit(tf, 2, 6, "X")}, "456789\n", 1},
		{"identical repeat applied once", []analysis.Diagnostic{edit(tf, 3, 4, "x"), edit(tf, 3, 4, "x")}, "012x456789\n", 1},
		{"two insertions at one point", []analysis.Diagnostic{edit(tf, 1, 1, "a"), edit(tf, 1, 1, "b")}, "0a123456789\n", 1},
		{"adjacent deletions", []analysis.Diagnostic{edit(tf, 0, 5, ""), edit(tf, 5, 10, "")}, "\n", 2},
		{"other files ignored", []analysis.Diagnostic{edit(other, 0, 10, ""), {Message: "no fix"}}, "0123456789\n", 0},
	}
	for _, tt := range tests {
		got, n, err := ApplyFixes(fset, "go.mod", src, tt.diags)
		if err != nil || string(got) != tt.want || n != tt.n {
			t.Errorf("%s: ApplyFixes = %q, %d, %v; want %q, %d", tt.name, got, n, err, tt.want, tt.n)
		}
	}
	_, _, err := ApplyFixes(fset, "go.mod", []byte("changed"), []analysis.Diagnostic{edit(tf, 0, 1, "")})
	if err == nil || !strings.Contains(err.Error(), "go.mod changed since it was analyzed") {
		t.Errorf("ApplyFixes on changed content: error %v", err)
	}
}
