package modnet

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
	"github.com/modkit/modkit/modnet/modnettest"
	"github.com/modkit/modkit/retry"
)

// This file is the differential test of Client downloads against the go
// command: random scenarios (GOPROXY lists of loopback stub proxies,
// file:// proxies, direct and off, ',' and '|'; GOPRIVATE and GONOPROXY
// patterns; stubs that answer 200, 404, 410, 403, 500 or reset the
// connection, permanently; upper-case module paths; @latest) are run through
// 'go mod download -json' and through Client.Download, each with its own
// empty module cache. Both must end the same way and ask the same stubs for
// the same files in the same order; repeated requests to one stub (modkit's
// retries) collapse into one.

// fastRetry retries like the default Client but without waiting long, so
// that permanent faults fail quickly.
func fastRetry() *retry.Client {
	return &retry.Client{BaseDelay: 1, MaxDelay: 2e6, ThrottleBaseDelay: 1, HedgeDisabled: true}
}

type downloadScenario struct {
	goproxy  string // with stub letters
	stubs    map[string]string
	env      []string
	module   string
	query    string
	describe string
}

var stubAnswers = []string{"200", "404", "410", "403", "500", "reset"}

func randomScenario(rng *rand.Rand) downloadScenario {
	sc := downloadScenario{stubs: map[string]string{}, query: "v1.0.0", module: "127.0.0.1/mod/a"}
	if rng.IntN(3) == 0 {
		sc.module = "127.0.0.1/Mod/Upper"
	}
	if rng.IntN(4) == 0 {
		sc.query = "latest"
	}
	letters := []string{"A", "B", "C"}
	var b strings.Builder
	n := 1 + rng.IntN(3)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString([]string{",", "|"}[rng.IntN(2)])
		}
		switch r := rng.IntN(10); {
		case r == 0:
			b.WriteString("F") // a file:// proxy with the module
		case r == 1:
			b.WriteString("E") // an empty file:// proxy
		default:
			l := letters[i]
			b.WriteString(l)
			sc.stubs[l] = stubAnswers[rng.IntN(len(stubAnswers))]
		}
	}
	switch rng.IntN(4) {
	case 0:
		b.WriteString([]string{",", "|"}[rng.IntN(2)] + "direct")
	case 1:
		b.WriteString([]string{",", "|"}[rng.IntN(2)] + "off")
	}
	sc.goproxy = b.String()
	switch rng.IntN(6) {
	case 0:
		sc.env = []string{"GOPRIVATE", "127.0.0.1/mod"}
	case 1:
		sc.env = []string{"GONOPROXY", "127.0.0.1/*/a"}
	case 2:
		sc.env = []string{"GOPRIVATE", "127.0.0.1", "GONOPROXY", "none"}
	case 3:
		sc.env = []string{"GONOPROXY", "127.0.0.1/Mod"}
	}
	sc.describe = fmt.Sprintf("GOPROXY=%s stubs=%v env=%v %s@%s", sc.goproxy, sc.stubs, sc.env, sc.module, sc.query)
	return sc
}

func TestDownloadMatchesGoCommand(t *testing.T) {
	testenv.GoBin(t)
	if testing.Short() {
		t.Skip("runs the go command many times")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 64
	for i := 0; i < n; i++ {
		sc := randomScenario(rng)
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			runDownloadScenario(t, sc)
		})
	}
}

// stubRule turns a permanent answer into a modnettest rule.
func stubRule(answer string) []modnettest.Rule {
	switch answer {
	case "200":
		return nil
	case "reset":
		return []modnettest.Rule{{Module: "127.0.0.1", Fault: modnettest.Reset()}}
	}
	var code int
	fmt.Sscan(answer, &code)
	return []modnettest.Rule{{Module: "127.0.0.1", Fault: modnettest.Status(code)}}
}

func runDownloadScenario(t *testing.T, sc downloadScenario) {
	// v1.1.0 retracts itself, so "latest" must resolve to v1.0.0.
	mod := modnettest.Module{Path: sc.module, Version: "v1.0.0",
		Files: map[string]string{"m.go": "package m\n\nconst V = 1\n"}}
	retracted := modnettest.Module{Path: sc.module, Version: "v1.1.0", Retract: []string{"v1.1.0"},
		Files: map[string]string{"m.go": "package m\n\nconst V = 2\n"}}
	urls := map[string]string{}
	servers := map[string]*modnettest.Server{}
	for name, answer := range sc.stubs {
		s := modnettest.NewUnstartedServer(mod, retracted)
		s.Name = name
		s.Start()
		t.Cleanup(s.Close)
		s.SetFaults(modnettest.Faults{Rules: stubRule(answer)})
		servers[name] = s
		urls[name] = s.URL
	}
	full := t.TempDir()
	if err := modnettest.WriteDir(full, mod, retracted); err != nil {
		t.Fatal(err)
	}
	urls["F"] = modnettest.DirURL(full)
	urls["E"] = modnettest.DirURL(t.TempDir())
	goproxy := expandProxy(sc.goproxy, urls)
	envKV := append([]string{"GOPROXY", goproxy, "GOSUMDB", "off"}, sc.env...)

	// The go command first.
	g := testenv.NewGo(t, "GOVCS=*:all")
	for i := 0; i+1 < len(envKV); i += 2 {
		g.Env = append(g.Env, envKV[i]+"="+envKV[i+1])
	}
	cmd := g.Command("mod", "download", "-json", sc.module+"@"+sc.query)
	out, _ := cmd.Output()
	var goRes struct{ Version, Error string }
	json.Unmarshal(out, &goRes)
	goContacts := contacts(servers)
	for _, s := range servers {
		s.ResetRequests()
	}

	// Then modkit, with an empty cache of its own.
	environ := map[string]string{"GOENV": "off", "GOROOT": t.TempDir(), "HOME": t.TempDir(),
		"GOMODCACHE": filepath.Join(t.TempDir(), "mod"), "GOFLAGS": "-modcacherw", "PATH": os.Getenv("PATH")}
	for i := 0; i+1 < len(envKV); i += 2 {
		environ[envKV[i]] = envKV[i+1]
	}
	env, err := LoadEnvFrom(environ)
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{Env: env, HTTP: fastRetry()}
	defer c.Close()
	res, mkErr := c.Download(context.Background(), sc.module, sc.query)
	mkContacts := contacts(servers)

	switch {
	case goRes.Error == "" && mkErr != nil:
		t.Errorf("%s\ngo succeeded, modkit failed: %v", sc.describe, mkErr)
	case goRes.Error != "" && mkErr == nil:
		t.Errorf("%s\ngo failed, modkit succeeded (%s)\ngo: %s", sc.describe, res.Version, goRes.Error)
	case mkErr == nil && res.Version != goRes.Version:
		t.Errorf("%s\ngo resolved %s, modkit %s", sc.describe, goRes.Version, res.Version)
	}
	if mkErr != nil && goRes.Error != "" {
		if g, m := errorOrigin(goRes.Error), errorOrigin(mkErr.Error()); g != m {
			t.Errorf("%s\nreported errors come from different sources: go %s, modkit %s\ngo: %s\nmodkit: %v", sc.describe, g, m, goRes.Error, mkErr)
		}
	}
	if goContacts != mkContacts {
		t.Errorf("%s\nstubs contacted differ\n go:     %s\n modkit: %s\ngo error: %s\nmodkit error: %v", sc.describe, goContacts, mkContacts, goRes.Error, mkErr)
	}
}

// contacts lists, per file kind, the stubs asked in order, with repeated
// requests to one stub collapsed.
func contacts(servers map[string]*modnettest.Server) string {
	var all modnettest.Log
	for _, s := range servers {
		all = append(all, s.Requests()...)
	}
	sortLogByTime(all)
	byKind := map[modnettest.FileKind][]string{}
	for _, r := range all {
		if r.Kind == modnettest.KindSumDB {
			continue
		}
		seq := byKind[r.Kind]
		if len(seq) > 0 && seq[len(seq)-1] == r.Server {
			continue
		}
		byKind[r.Kind] = append(seq, r.Server)
	}
	m := map[string][]string{}
	for k, v := range byKind {
		m[string(k)] = v
	}
	return fmt.Sprint(sortedMap(m))
}

func sortLogByTime(l modnettest.Log) {
	for i := 1; i < len(l); i++ {
		for j := i; j > 0 && l[j].Time.Before(l[j-1].Time); j-- {
			l[j], l[j-1] = l[j-1], l[j]
		}
	}
}

// errorOrigin names where a reported error came from: direct mode, off,
// or the URL in it.
func errorOrigin(msg string) string {
	switch {
	case strings.Contains(msg, "go-get=1") || strings.Contains(msg, "direct mode"):
		return "direct"
	case strings.Contains(msg, "GOPROXY=off"):
		return "off"
	}
	for _, scheme := range []string{"http://", "file://"} {
		if i := strings.Index(msg, scheme); i >= 0 {
			u := msg[i:]
			if j := strings.IndexAny(u[len(scheme):], "\" \n"); j >= 0 {
				u = u[:len(scheme)+j]
			}
			return strings.TrimSuffix(u, ":")
		}
	}
	return "?"
}
