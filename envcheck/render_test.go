package envcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update if the change is intended)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// sampleReport has every status, multi-line details and fixes, and an
// unknown check.
func sampleReport() Report {
	return Report{
		Checks: []Result{
			{ID: "go.version", Status: StatusOK, Summary: "go1.26.1 satisfies go.mod (go 1.25.0)", Details: []string{"local toolchain go1.26.1"}, Duration: 1200 * time.Microsecond},
			{ID: "env.goenv-file", Status: StatusError, Summary: "/home/u/.config/go/env:3: the empty GOPROXY= wipes the default",
				Details: []string{"GOPROXY= (from GOENV file /home/u/.config/go/env:3)"}, Fix: "go env -u GOPROXY", Duration: 300 * time.Microsecond},
			{ID: "goproxy.fallback", Status: StatusWarn, Summary: "https://a.example.com is followed by ','",
				Fix: "# if you want failover:\ngo env -w GOPROXY='https://a.example.com|https://b.example.com,direct'"},
			{ID: "goproxy.reach", Status: StatusSkip, Summary: "live probe skipped (offline)"},
			{ID: "private.coverage", Status: StatusInfo, Summary: "requirements on hosts not known to be public", Details: []string{"one\ntwo"}},
			{ID: "tls.verify", Status: StatusOK, Summary: "1 certificate verifies", Details: []string{"hidden unless -v"}, Duration: 81 * time.Millisecond},
			{ID: "nosuch.check", Status: StatusError, Summary: `unknown check "nosuch.check"`},
		},
		Errors: 2, Warnings: 1,
	}
}

func TestWriteTextGolden(t *testing.T) {
	rep := sampleReport()
	var b bytes.Buffer
	if err := rep.WriteText(&b, false); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.golden", b.Bytes())

	b.Reset()
	rep.Duration = 1234 * time.Millisecond
	if err := rep.WriteText(&b, true); err != nil {
		t.Fatal(err)
	}
	golden(t, "report-verbose.golden", b.Bytes())
}

// TestRunGolden renders a real offline run over a fixed machine.
func TestRunGolden(t *testing.T) {
	c := staticCase{
		vars: vars("GOPROXY", "https://corp.example.com;https://b.example.com", "GOPRIVTE", "git.corp.internal",
			"GONOSUMDB", "git.corp.internal, other.corp.internal", "HTTP_PROXY", "http://squid.example.com:3128",
			"GOFLAGS", "-mod mod", "GOSUMDB", "off"),
		gomod: "module example.com/app\n\ngo 1.25.0\n\nrequire git.corp.internal/lib v1.0.0\n",
	}
	opts, dir := c.machine(t)
	opts.Checks = []string{"goproxy", "private", "env.unknown-vars", "proxyenv.vars", "sumdb.off", "goflags.parse"}
	rep := Run(context.Background(), opts)
	rep.Duration = 0
	var b bytes.Buffer
	if err := rep.WriteText(&b, false); err != nil {
		t.Fatal(err)
	}
	golden(t, "run.golden", bytes.ReplaceAll(b.Bytes(), []byte(dir), []byte("$DIR")))
}

func TestJSON(t *testing.T) {
	data, err := json.Marshal(sampleReport())
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Checks   []map[string]any `json:"checks"`
		Errors   int              `json:"errors"`
		Warnings int              `json:"warnings"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Errors != 2 || got.Warnings != 1 || len(got.Checks) != 7 {
		t.Fatalf("decoded %+v", got)
	}
	for _, c := range got.Checks {
		for _, k := range []string{"id", "status", "summary", "details", "fix", "duration_ms"} {
			if _, ok := c[k]; !ok {
				t.Errorf("check %v lacks %q", c["id"], k)
			}
		}
		if len(c) != 6 {
			t.Errorf("check %v has extra keys: %v", c["id"], c)
		}
	}
	if ms := got.Checks[0]["duration_ms"]; ms != 1.2 {
		t.Errorf("duration_ms = %v, want 1.2", ms)
	}
	if d := got.Checks[3]["details"]; d == nil {
		t.Errorf("details = null, want []")
	}
	var empty bytes.Buffer
	json.NewEncoder(&empty).Encode(Report{})
	if s := strings.TrimSpace(empty.String()); s != `{"checks":[],"errors":0,"warnings":0}` {
		t.Errorf("empty report = %s", s)
	}
}
