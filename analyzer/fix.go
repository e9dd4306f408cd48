package analyzer

import (
	"bytes"
	"fmt"
	"go/token"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/modfile"
	"golang.org/x/tools/go/analysis"
)

// Suggested fixes edit go.mod by byte offsets into the text as it was read,
// never by reformatting it, so that comments and layout survive. Fixes are
// offered only where the result builds exactly as before or is clearly safe:
// removing a no-op or an exact duplicate, and pinning a version-less replace
// to the version the build already selects. A local (directory) replacement
// is never removed automatically.

// pinFix inserts version after the old module path of r, turning
// "replace m => n v" into "replace m version => n v".
func pinFix(tf *token.File, data []byte, r *modfile.Replace, version string) analysis.SuggestedFix {
	at := r.Syntax.Start.Byte
	if !r.Syntax.InBlock {
		at = skipSpace(data, tokenEnd(data, at)) // skip the "replace" verb
	}
	at = tokenEnd(data, at)
	text := " " + version
	if at < len(data) && skipSpace(data, at) == at {
		text += " " // a quoted path may touch the next token: "m"=> n v1
	}
	return analysis.SuggestedFix{
		Message: fmt.Sprintf("Pin the replace to the required version %s", version),
		TextEdits: []analysis.TextEdit{{
			Pos:     tf.Pos(at),
			End:     tf.Pos(at),
			NewText: []byte(text),
		}},
	}
}

// tokenEnd returns the offset just past the go.mod token starting at off:
// a quoted string ("..." with escapes, or `...`) or an identifier.
func tokenEnd(data []byte, off int) int {
	if off >= len(data) {
		return len(data)
	}
	switch q := data[off]; q {
	case '"', '`':
		for i := off + 1; i < len(data); i++ {
			switch {
			case data[i] == '\\' && q == '"':
				i++
			case data[i] == q:
				return i + 1
			case data[i] == '\n':
				return i
			}
		}
		return len(data)
	}
	// An identifier, as modfile's lexer (isIdent) scans it.
	i := off
	for i < len(data) && !bytes.HasPrefix(data[i:], []byte("//")) {
		r, size := utf8.DecodeRune(data[i:])
		if unicode.IsSpace(r) || !unicode.IsPrint(r) || strings.ContainsRune("()[]{},", r) {
			break
		}
		i += size
	}
	return i
}

func skipSpace(data []byte, off int) int {
	for off < len(data) && (data[off] == ' ' || data[off] == '\t' || data[off] == '\r') {
		off++
	}
	return off
}

// deleteFix removes the replace directive r with the comment lines attached
// above it. A block left empty is removed with its parentheses.
func deleteFix(tf *token.File, f *modfile.File, data []byte, r *modfile.Replace, message string) analysis.SuggestedFix {
	var start, end int
	if b := enclosingBlock(f, r.Syntax); b != nil && len(b.Line) == 1 {
		start = lineStart(data, firstPos(b.Start, b.Before))
		end = lineEnd(data, b.RParen.Pos.Byte)
	} else {
		start = lineStart(data, firstPos(r.Syntax.Start, r.Syntax.Before))
		end = lineEnd(data, r.Syntax.End.Byte)
	}
	// Removing a directive that stood between two blank lines would leave
	// them adjacent, and one at the end would leave a trailing blank line;
	// take one with it.
	blankBefore := start == 0 || start >= 2 && data[start-2] == '\n'
	switch {
	case blankBefore && end < len(data) && data[end] == '\n':
		end++
	case blankBefore && start > 0 && end == len(data):
		start--
	}
	return analysis.SuggestedFix{
		Message:   message,
		TextEdits: []analysis.TextEdit{{Pos: tf.Pos(start), End: tf.Pos(end)}},
	}
}

// firstPos returns the position of the first of comments, or pos if there
// are none.
func firstPos(pos modfile.Position, comments []modfile.Comment) int {
	if len(comments) > 0 {
		return comments[0].Start.Byte
	}
	return pos.Byte
}

// lineStart returns the offset of the beginning of the line holding off.
func lineStart(data []byte, off int) int {
	return bytes.LastIndexByte(data[:off], '\n') + 1
}

// lineEnd returns the offset just past the newline ending the line that
// holds off, or the end of data.
func lineEnd(data []byte, off int) int {
	if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
		return off + i + 1
	}
	return len(data)
}

// enclosingBlock returns the replace block holding line, or nil.
func enclosingBlock(f *modfile.File, line *modfile.Line) *modfile.LineBlock {
	for _, stmt := range f.Syntax.Stmt {
		if b, ok := stmt.(*modfile.LineBlock); ok && slices.Contains(b.Line, line) {
			return b
		}
	}
	return nil
}

// ApplyFixes applies the first suggested fix of each diagnostic that edits
// the file named filename, whose content is src, and returns the result and
// the number of fixes applied. It is what "modreplace -gomod -fix" does. A
// fix that overlaps one already applied is skipped, as the x/tools drivers
// skip conflicting fixes; so is an identical repeat of one. Positions are
// resolved in fset, where the diagnostics were reported.
func ApplyFixes(fset *token.FileSet, filename string, src []byte, diags []analysis.Diagnostic) ([]byte, int, error) {
	type edit struct {
		start, end int
		text       []byte
	}
	var applied [][]edit
	overlaps := func(a, b edit) bool {
		if a.start == a.end || b.start == b.end { // insertions conflict only at the same point
			return a.start == b.start || a.start > b.start && a.start < b.end || b.start > a.start && b.start < a.end
		}
		return a.start < b.end && b.start < a.end
	}
	same := func(x, y []edit) bool {
		return slices.EqualFunc(x, y, func(a, b edit) bool {
			return a.start == b.start && a.end == b.end && bytes.Equal(a.text, b.text)
		})
	}
next:
	for _, d := range diags {
		if len(d.SuggestedFixes) == 0 {
			continue
		}
		var edits []edit
		for _, te := range d.SuggestedFixes[0].TextEdits {
			tf := fset.File(te.Pos)
			if tf == nil || tf.Name() != filename {
				continue next
			}
			if tf.Size() != len(src) {
				return nil, 0, fmt.Errorf("%s changed since it was analyzed (size %d, now %d)", filename, tf.Size(), len(src))
			}
			end := te.End
			if !end.IsValid() {
				end = te.Pos
			}
			edits = append(edits, edit{tf.Offset(te.Pos), tf.Offset(end), te.NewText})
		}
		for _, prev := range applied {
			if same(prev, edits) {
				continue next
			}
			for _, a := range prev {
				for _, b := range edits {
					if overlaps(a, b) {
						continue next
					}
				}
			}
		}
		applied = append(applied, edits)
	}
	var all []edit
	for _, edits := range applied {
		all = append(all, edits...)
	}
	slices.SortStableFunc(all, func(a, b edit) int { return a.start - b.start })
	var out []byte
	last := 0
	for _, e := range all {
		out = append(out, src[last:e.start]...)
		out = append(out, e.text...)
		last = e.end
	}
	out = append(out, src[last:]...)
	return out, len(applied), nil
}
