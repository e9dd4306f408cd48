package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
)

// isolate gives the process an environment with no GOENV file, a fake
// GOROOT and the given variables.
func isolate(t *testing.T, kv ...string) {
	dir := t.TempDir()
	goroot := filepath.Join(dir, "goroot")
	os.MkdirAll(goroot, 0o755)
	os.WriteFile(filepath.Join(goroot, "VERSION"), []byte("go1.26.1\n"), 0o644)
	os.WriteFile(filepath.Join(goroot, "go.env"), []byte("GOPROXY=https://proxy.example.com,direct\nGOSUMDB=sum.golang.org\n"), 0o644)
	for _, k := range []string{"GOPROXY", "GOSUMDB", "GOPRIVATE", "GONOPROXY", "GONOSUMDB", "GOFLAGS", "GOINSECURE",
		"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy", "ALL_PROXY", "all_proxy"} {
		t.Setenv(k, "")
	}
	t.Setenv("GOENV", "off")
	t.Setenv("GOROOT", goroot)
	if err := testenv.PrepareHome(dir); err != nil { // 'go env GOROOT' runs with this HOME
		t.Fatal(err)
	}
	t.Setenv("HOME", dir)
	for i := 0; i+1 < len(kv); i += 2 {
		t.Setenv(kv[i], kv[i+1])
	}
}

func moddoctor(t *testing.T, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		code int
		out  string
		err  string
	}{
		{"ok", nil, []string{"-offline", "-check", "goproxy.syntax"}, 0, "✓ goproxy.syntax", ""},
		{"warning does not fail", []string{"GOPROXY", "direct,https://a.example.com"}, []string{"-offline", "-check", "goproxy.syntax"}, 0,
			"! goproxy.syntax  GOPROXY entries after \"direct\" are never used", ""},
		{"error fails", []string{"GOPROXY", "a;b"}, []string{"-offline", "-check", "goproxy"}, 1, "✗ goproxy.syntax", ""},
		{"fix indented", []string{"GOPROXY", "https://a.example.com;direct"}, []string{"-offline", "-check", "goproxy.syntax"}, 1,
			"fix: export GOPROXY=https://a.example.com,direct", ""},
		{"summary line", nil, []string{"-offline", "-check", "goproxy"}, 0, "3 checks: 2 ok, 0 warnings, 0 errors, 1 skipped (", ""},
		{"unknown check", nil, []string{"-check", "nosuch"}, 2, "", `unknown check "nosuch"`},
		{"bad flag", nil, []string{"-frobnicate"}, 2, "", "flag provided but not defined"},
		{"argument", nil, []string{"extra"}, 2, "", `unexpected argument "extra"`},
		{"bad timeout", nil, []string{"-timeout", "0s"}, 2, "", "-timeout must be positive"},
		{"help", nil, []string{"-h"}, 0, "", "tls.verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t, tc.env...)
			code, out, errOut := moddoctor(t, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) {
				t.Errorf("moddoctor %q = exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit %d, stdout with %q, stderr with %q",
					tc.args, code, out, errOut, tc.code, tc.out, tc.err)
			}
		})
	}
}

func TestJSONOutput(t *testing.T) {
	isolate(t, "GOPROXY", "https://a.example.com,https://b.example.com")
	code, out, _ := moddoctor(t, "-json", "-offline", "-check", "goproxy", "-check", "sumdb.off")
	if code != 0 {
		t.Errorf("exit %d, want 0 (warnings only)", code)
	}
	var rep struct {
		Checks []struct {
			ID, Status, Summary, Fix string
			Details                  []string
			DurationMS               *float64 `json:"duration_ms"`
		}
		Errors, Warnings int
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rep.Checks) != 4 || rep.Warnings != 1 || rep.Errors != 0 {
		t.Fatalf("report %+v", rep)
	}
	for _, c := range rep.Checks {
		if c.DurationMS == nil || c.ID == "" || c.Status == "" {
			t.Errorf("incomplete check %+v", c)
		}
		if c.ID == "goproxy.fallback" && (c.Status != "warn" || !strings.Contains(c.Fix, "'https://a.example.com|https://b.example.com'")) {
			t.Errorf("goproxy.fallback = %+v", c)
		}
	}
}

// TestLiveProbe runs one live probe against a loopback proxy.
func TestLiveProbe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/golang.org/x/mod/@v/list" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "v0.1.0\n")
	}))
	defer srv.Close()
	isolate(t, "GOPROXY", srv.URL)
	code, out, _ := moddoctor(t, "-v", "-check", "goproxy.reach")
	if code != 0 || !strings.Contains(out, "1 versions of golang.org/x/mod") {
		t.Errorf("exit %d\n%s", code, out)
	}
}
