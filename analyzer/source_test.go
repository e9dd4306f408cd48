package analyzer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/modnet/modnettest"
)

// testSource returns a ModnetSource whose Client sees only the given
// variables and an empty module cache.
func testSource(t *testing.T, kv ...string) *ModnetSource {
	t.Helper()
	m := map[string]string{"GOENV": "off", "GOROOT": t.TempDir(), "HOME": t.TempDir(),
		"GOMODCACHE": filepath.Join(t.TempDir(), "mod"), "GOFLAGS": "-modcacherw", "GOSUMDB": "off",
		"PATH": os.Getenv("PATH")}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	env, err := modnet.LoadEnvFrom(m)
	if err != nil {
		t.Fatal(err)
	}
	c := &modnet.Client{Env: env}
	t.Cleanup(func() { c.Close() })
	return &ModnetSource{Client: c}
}

const latestMod = `// Deprecated: use example.com/lib/v2
module example.com/lib

go 1.22

retract (
	[v1.0.0, v1.0.5] // corrupts data on write
	v1.1.0
)
`

func TestModnetSource(t *testing.T) {
	lib := func(v, gomod string) modnettest.Module {
		return modnettest.Module{Path: "example.com/lib", Version: v, GoMod: gomod, Files: map[string]string{"lib.go": "package lib\n"}}
	}
	srv := modnettest.NewServer(
		lib("v1.0.0", "module example.com/lib\n"),
		lib("v1.2.0", latestMod),
		lib("v1.3.0-rc.1", "module example.com/lib\n"),
	)
	defer srv.Close()
	s := testSource(t, "GOPROXY", srv.URL)
	ctx := context.Background()
	tests := []struct {
		version   string
		retracted bool
		rationale string
	}{
		{"v1.0.0", true, "corrupts data on write"},
		{"v1.0.3", true, "corrupts data on write"},
		{"v1.0.5", true, "corrupts data on write"},
		{"v1.0.6", false, ""},
		{"v1.1.0", true, ""},
		{"v1.2.0", false, ""},
	}
	for _, tt := range tests {
		got, why, err := s.Retraction(ctx, "example.com/lib", tt.version)
		if err != nil || got != tt.retracted || why != tt.rationale {
			t.Errorf("Retraction(%s) = %v, %q, %v; want %v, %q", tt.version, got, why, err, tt.retracted, tt.rationale)
		}
	}
	dep, err := s.Deprecation(ctx, "example.com/lib")
	if err != nil || dep != "use example.com/lib/v2" {
		t.Errorf("Deprecation = %q, %v; want %q", dep, err, "use example.com/lib/v2")
	}
	// The latest release is found once and its go.mod read once: list,
	// then v1.2.0's .info and .mod, as the go command's
	// queryLatestVersionIgnoringRetractions asks for them.
	var files []string
	for _, r := range srv.Requests() {
		files = append(files, string(r.Kind))
	}
	if got := strings.Join(files, " "); got != "list info mod" {
		t.Errorf("requests: %s; want the list and the latest go.mod, once", got)
	}
}

func TestModnetSourceErrors(t *testing.T) {
	srv := modnettest.NewServer()
	defer srv.Close()
	broken := modnettest.NewServer()
	defer broken.Close()
	broken.SetFaults(modnettest.Faults{Rules: []modnettest.Rule{{Module: "example.com", Fault: modnettest.Status(403)}}})
	for _, tt := range []struct {
		name    string
		kv      []string
		wantErr string
	}{
		{"not found", []string{"GOPROXY", srv.URL}, "404 Not Found"},
		{"forbidden stops a comma list", []string{"GOPROXY", broken.URL + "," + srv.URL}, "403 Forbidden"},
		{"off", []string{"GOPROXY", "off"}, "module lookup disabled by GOPROXY=off"},
		{"credentials redacted", []string{"GOPROXY", strings.Replace(broken.URL, "http://", "http://user:secret@", 1)}, "xxxxx"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := testSource(t, tt.kv...)
			_, _, err := s.Retraction(context.Background(), "example.com/lib", "v1.0.0")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Retraction error = %v; want it to contain %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("error leaks credentials: %v", err)
			}
		})
	}
}
