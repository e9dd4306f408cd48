package modnet

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
	"github.com/modkit/modkit/modnet/modnettest"
)

// walkCase is one download compared with the go command: stub proxies
// named by letters, each with faults, a GOPROXY list of those letters and
// the module@query downloaded.
type walkCase struct {
	name    string
	goproxy string
	faults  map[string][]modnettest.Rule
	query   string
}

// runWalkCase downloads with 'go mod download -json' and with the Client,
// each into a cache of its own, and requires the same outcome (version, or
// error text) and the same requests, in the same order, with nothing
// collapsed.
func runWalkCase(t *testing.T, tc walkCase, mods ...modnettest.Module) {
	t.Helper()
	servers := map[string]*modnettest.Server{}
	urls := map[string]string{}
	for _, name := range strings.FieldsFunc(tc.goproxy, func(r rune) bool { return r == ',' || r == '|' }) {
		if servers[name] != nil {
			continue
		}
		s := modnettest.NewUnstartedServer(mods...)
		s.Name = name
		s.Start()
		t.Cleanup(s.Close)
		s.SetFaults(modnettest.Faults{Rules: tc.faults[name]})
		servers[name], urls[name] = s, s.URL
	}
	goproxy := expandProxy(tc.goproxy, urls)
	path, query, _ := strings.Cut(tc.query, "@")

	g := testenv.NewGo(t, "GOPROXY="+goproxy, "GOSUMDB=off", "GOMODCACHE="+filepath.Join(t.TempDir(), "go"))
	out, _, _ := g.Run("mod", "download", "-json", tc.query)
	var goRes struct{ Version, Error string }
	json.Unmarshal([]byte(out), &goRes)
	goAsked := allRequests(servers)
	for _, s := range servers {
		s.ResetRequests()
	}

	env, err := LoadEnvFrom(map[string]string{"GOENV": "off", "GOROOT": t.TempDir(), "HOME": t.TempDir(), "GOPROXY": goproxy,
		"GOSUMDB": "off", "GOFLAGS": "-modcacherw", "GOMODCACHE": filepath.Join(t.TempDir(), "modkit"), "PATH": os.Getenv("PATH")})
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{Env: env, NoRetry: true} // one request per attempt, as the go command
	defer c.Close()
	m, mkErr := c.Download(context.Background(), path, query)
	mkAsked := allRequests(servers)

	switch {
	case goRes.Error == "" && mkErr != nil:
		t.Errorf("go succeeded (%s), modkit failed: %v", goRes.Version, mkErr)
	case goRes.Error != "" && mkErr == nil:
		t.Errorf("go failed, modkit succeeded (%s)\ngo: %s", m.Version, goRes.Error)
	case mkErr == nil && m.Version != goRes.Version:
		t.Errorf("go resolved %s, modkit %s", goRes.Version, m.Version)
	case mkErr != nil && mkErr.Error() != goRes.Error:
		t.Errorf("errors differ\ngo:     %s\nmodkit: %v", goRes.Error, mkErr)
	}
	if goAsked != mkAsked {
		t.Errorf("requests differ\ngo:     %s\nmodkit: %s", goAsked, mkAsked)
	}
}

// allRequests lists every request to the stubs in arrival order, as
// "stub file", checksum database requests aside.
func allRequests(servers map[string]*modnettest.Server) string {
	var all modnettest.Log
	for _, s := range servers {
		all = append(all, s.Requests()...)
	}
	sortLogByTime(all)
	var seq []string
	for _, r := range all {
		if r.Kind != modnettest.KindSumDB {
			seq = append(seq, r.Server+" "+r.Path[strings.LastIndex(r.Path, "/")+1:])
		}
	}
	return strings.Join(seq, ", ")
}

// TestProxyListedTwiceMatchesGoCommand: the go command keeps one
// repository per proxy URL and module path, so a proxy listed twice is
// asked once for a list, an .info or a go.mod, whatever it answered; a zip
// is asked again. The case is the first: GOPROXY=A|B|A with A
// answering 410 and B 403.
func TestProxyListedTwiceMatchesGoCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	testenv.GoBin(t)
	mod := modnettest.Module{Path: "127.0.0.1/mod/twice", Version: "v1.0.0", Files: map[string]string{"t.go": "package t\n"}}
	status := func(code int) []modnettest.Rule {
		return []modnettest.Rule{{Module: "127.0.0.1", Fault: modnettest.Status(code)}}
	}
	zipOnly := func(code int) []modnettest.Rule {
		return []modnettest.Rule{{Module: "127.0.0.1", Kind: modnettest.KindZip, Fault: modnettest.Status(code)}}
	}
	for _, tc := range []walkCase{
		{name: "A|B|A, 410 then 403", goproxy: "A|B|A", faults: map[string][]modnettest.Rule{"A": status(410), "B": status(403)}, query: mod.String()},
		{name: "A,B,A, 404 then 404", goproxy: "A,B,A", faults: map[string][]modnettest.Rule{"A": status(404), "B": status(404)}, query: mod.String()},
		{name: "A|B|A latest, 410 then 500", goproxy: "A|B|A", faults: map[string][]modnettest.Rule{"A": status(410), "B": status(500)}, query: mod.Path + "@latest"},
		{name: "A|B|A|C, zips 410 then 403", goproxy: "A|B|A|C", faults: map[string][]modnettest.Rule{"A": zipOnly(410), "B": status(403)}, query: mod.String()},
	} {
		t.Run(tc.name, func(t *testing.T) { runWalkCase(t, tc, mod) })
	}
}

// TestLatestFromListMatchesGoCommand: for @latest resolved from the list,
// the go command stats the version it picks (.info) before it reads that
// version's go.mod for retractions; modkit used to read the go.mod first.
func TestLatestFromListMatchesGoCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	testenv.GoBin(t)
	var mods []modnettest.Module
	for _, v := range []string{"v1.0.0", "v1.1.0", "v1.2.0"} {
		m := modnettest.Module{Path: "127.0.0.1/mod/list", Version: v, Files: map[string]string{"l.go": "package l\n"}}
		if v == "v1.2.0" {
			m.Retract = []string{"v1.2.0"}
		}
		mods = append(mods, m)
	}
	for _, tc := range []walkCase{
		{name: "one proxy", goproxy: "A", query: "127.0.0.1/mod/list@latest"},
		{name: "after a 404", goproxy: "N,A", faults: map[string][]modnettest.Rule{"N": {{Module: "127.0.0.1", Fault: modnettest.Status(404)}}}, query: "127.0.0.1/mod/list@latest"},
	} {
		t.Run(tc.name, func(t *testing.T) { runWalkCase(t, tc, mods...) })
	}
}
