package analyzer

import (
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestConfigEnabled(t *testing.T) {
	defaults := func() []string {
		var on []string
		for _, c := range checkList {
			if c.Default {
				on = append(on, c.ID)
			}
		}
		return on
	}
	tests := []struct {
		name             string
		enable, disable  []string
		want             []string
		wantErrSubstring string
	}{
		{"zero config", nil, nil, defaults(), ""},
		{"enable adds", []string{Undocumented}, nil, append(defaults(), Undocumented), ""},
		{"disable removes", nil, []string{Fork, Noop}, slices.DeleteFunc(defaults(), func(id string) bool { return id == Fork || id == Noop }), ""},
		{"enable all", []string{"all"}, nil, checkIDs(), ""},
		{"disable all but enabled", []string{Retracted}, []string{"all"}, []string{Retracted}, ""},
		{"disable wins", []string{Undocumented}, []string{Undocumented}, defaults(), ""},
		{"unknown", []string{"nope"}, nil, nil, `unknown check "nope" (known: local-escape,`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{Enable: tt.enable, Disable: tt.disable}
			on, err := c.enabled()
			if tt.wantErrSubstring != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrSubstring) {
					t.Fatalf("error = %v; want it to contain %q", err, tt.wantErrSubstring)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range checkList {
				if on[c.ID] {
					got = append(got, c.ID)
				}
			}
			want := slices.Clone(tt.want)
			slices.SortFunc(want, func(a, b string) int { return checkIndex(a) - checkIndex(b) })
			if !slices.Equal(got, want) {
				t.Errorf("enabled = %v; want %v", got, want)
			}
		})
	}
}

func TestRegisterFlags(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.RegisterFlags(fs)
	if err := fs.Parse([]string{"-enable=undocumented, library", "-enable=retracted", "-disable=fork", "-allow=a.example/*,b.example"}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Enable, []string{Undocumented, Library, Retracted}) || !slices.Equal(c.Disable, []string{Fork}) ||
		!slices.Equal(c.Allow, []string{"a.example/*", "b.example"}) {
		t.Errorf("flags gave %+v", c)
	}
	err := fs.Parse([]string{"-disable=forks"})
	if err == nil || !strings.Contains(err.Error(), `unknown check "forks"`) {
		t.Errorf("-disable=forks: error %v; want unknown check", err)
	}
}

// TestAnalyzerFlags checks that the analyzer's flags configure it and that
// New copies its Config.
func TestAnalyzerFlags(t *testing.T) {
	cfg := Config{Allow: []string{"x.example"}}
	a := New(cfg)
	if err := a.Flags.Parse([]string{"-allow=y.example"}); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Allow) != 1 {
		t.Errorf("New aliased the caller's Config: %v", cfg.Allow)
	}
	for _, name := range []string{"enable", "disable", "allow"} {
		if a.Flags.Lookup(name) == nil {
			t.Errorf("analyzer has no -%s flag", name)
		}
	}
	// The Doc is doc.go's "# Analyzer modreplace" section, which must
	// describe every check.
	if !strings.HasPrefix(a.Doc, "report risky replace directives in go.mod\n\n") || strings.Contains(a.Doc, "# ") || strings.Contains(a.Doc, "One report per module") {
		t.Errorf("Doc is not the x/tools shape (summary, blank line, the section up to the next heading):\n%s", a.Doc)
	}
	for _, c := range Checks() {
		if !strings.Contains(a.Doc, "\n  - "+c.ID+": ") {
			t.Errorf("Doc does not describe the %s check:\n%s", c.ID, a.Doc)
		}
	}
}
