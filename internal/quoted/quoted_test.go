package quoted

import (
	"fmt"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"cmd", []string{"cmd"}, ""},
		{"  cmd\t-a  b\n", []string{"cmd", "-a", "b"}, ""},
		{`cmd 'a b' "c 'd'" e"f"`, []string{"cmd", "a b", "c 'd'", `e"f"`}, ""},
		{`cmd ''`, []string{"cmd", ""}, ""},
		{`cmd 'a`, nil, "unterminated ' string"},
		{`cmd "a`, nil, `unterminated " string`},
	}
	for _, tt := range tests {
		got, err := Split(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Split(%q) = %q, %v; want error %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.want) {
			t.Errorf("Split(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// FuzzSplit: fields never hold a separator unless they were quoted, and
// an input without quotes splits like strings.Fields on the separators.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{"a b", `'a b' "c"`, `x"y`, "'", "\t\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Split(s)
		if !strings.ContainsAny(s, `'"`) {
			want := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(" \t\r\n", r) })
			if err != nil || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
				t.Errorf("Split(%q) = %q, %v; want %q", s, got, err, want)
			}
		}
	})
}
