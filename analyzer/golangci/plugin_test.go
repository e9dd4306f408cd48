package golangci

import (
	"strings"
	"testing"

	"github.com/golangci/plugin-module-register/register"
)

// TestPlugin drives the entry points golangci-lint calls: the registered
// constructor with the decoded YAML settings, then BuildAnalyzers and
// GetLoadMode.
func TestPlugin(t *testing.T) {
	newPlugin, err := register.GetPlugin("modreplace")
	if err != nil {
		t.Fatal(err)
	}
	// golangci-lint hands over the YAML settings as generic values.
	settings := map[string]any{
		"allow":   []any{"github.com/myorg/*"},
		"enable":  []any{"undocumented"},
		"disable": []any{"pseudo-version"},
	}
	p, err := newPlugin(settings)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.GetLoadMode(); got != register.LoadModeSyntax {
		t.Errorf("GetLoadMode = %q; want %q", got, register.LoadModeSyntax)
	}
	as, err := p.BuildAnalyzers()
	if err != nil || len(as) != 1 || as[0].Name != "modreplace" {
		t.Fatalf("BuildAnalyzers = %v, %v", as, err)
	}
	for name, want := range map[string]string{"allow": "github.com/myorg/*", "enable": "undocumented", "disable": "pseudo-version"} {
		if got := as[0].Flags.Lookup(name).Value.String(); got != want {
			t.Errorf("analyzer -%s = %q; want %q", name, got, want)
		}
	}
	// Each call builds an analyzer of its own: its once-per-module state is
	// not shared.
	again, _ := p.BuildAnalyzers()
	if again[0] == as[0] {
		t.Errorf("BuildAnalyzers returned the same analyzer twice")
	}

	if p, err := New(nil); err != nil || p == nil {
		t.Errorf("New(nil) = %v, %v; want the default plugin", p, err)
	}
	for _, tt := range []struct {
		settings any
		want     string
	}{
		{map[string]any{"enabel": []any{"undocumented"}}, `unknown field "enabel"`},
		{map[string]any{"enable": []any{"undocumentd"}}, `unknown check "undocumentd"`},
		{map[string]any{"allow": "github.com/x"}, "cannot unmarshal string"},
	} {
		if _, err := New(tt.settings); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%v) error %v; want %q", tt.settings, err, tt.want)
		}
	}
}
