package envcheck

import (
	"context"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/modkit/modkit/internal/testenv"
)

func fakeCheck(id string, run func(ctx context.Context, r *runner) Result) *check {
	return &check{id: id, area: areaEnv, run: run}
}

func okCheck(id string) *check {
	return fakeCheck(id, func(context.Context, *runner) Result { return Result{Status: StatusOK, Summary: "fine"} })
}

func testOptions(t *testing.T) Options {
	env, _ := probeEnv(t, nil)
	return Options{Env: env}
}

func TestPanicIsolation(t *testing.T) {
	reg := []*check{
		okCheck("a.before"),
		fakeCheck("a.panics", func(context.Context, *runner) Result { panic("boom") }),
		okCheck("a.after"),
	}
	rep := run(context.Background(), testOptions(t), reg)
	if len(rep.Checks) != 3 || rep.Errors != 1 {
		t.Fatalf("report = %+v, want 3 checks and 1 error", rep)
	}
	p := rep.Checks[1]
	if p.ID != "a.panics" || p.Status != StatusError || p.Summary != "check failed: panic: boom" || !strings.Contains(p.Fix, "bug in moddoctor") {
		t.Errorf("panicking check = %+v", p)
	}
	if !strings.Contains(strings.Join(p.Details, "\n"), "goroutine") {
		t.Errorf("panic details lack the stack: %q", p.Details)
	}
	for _, i := range []int{0, 2} {
		if rep.Checks[i].Status != StatusOK {
			t.Errorf("check %s = %s, want ok despite the panic next door", rep.Checks[i].ID, rep.Checks[i].Status)
		}
	}
}

func TestCheckTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		reg := []*check{
			// Ignores its context: the runner must give up on it.
			fakeCheck("a.stuck", func(context.Context, *runner) Result { <-release; return Result{Status: StatusOK} }),
			// Honours its context and explains itself within the grace period.
			fakeCheck("a.polite", func(ctx context.Context, _ *runner) Result {
				<-ctx.Done()
				return Result{Status: StatusError, Summary: "gave up: " + ctx.Err().Error()}
			}),
			okCheck("a.quick"),
		}
		opts := testOptions(t)
		opts.CheckTimeout, opts.Timeout = time.Second, time.Minute
		start := time.Now()
		rep := run(context.Background(), opts, reg)
		if took := time.Since(start); took != time.Second+lateGrace {
			t.Errorf("run took %v, want the check timeout plus grace, %v", took, time.Second+lateGrace)
		}
		want := map[string]string{
			"a.stuck":  "did not finish within 1s",
			"a.polite": "gave up: context deadline exceeded",
			"a.quick":  "fine",
		}
		for _, c := range rep.Checks {
			if c.Summary != want[c.ID] {
				t.Errorf("%s: summary %q, want %q", c.ID, c.Summary, want[c.ID])
			}
		}
		close(release)
		synctest.Wait()
	})
}

func TestOverallDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		reg := []*check{
			fakeCheck("a.stuck", func(context.Context, *runner) Result { <-release; return Result{Status: StatusOK} }),
			okCheck("a.quick"),
		}
		opts := testOptions(t)
		opts.CheckTimeout, opts.Timeout = time.Hour, 3*time.Second
		start := time.Now()
		rep := run(context.Background(), opts, reg)
		if took := time.Since(start); took > 3*time.Second+lateGrace {
			t.Errorf("run took %v, beyond the overall deadline", took)
		}
		if c := rep.Checks[0]; c.Status != StatusError || c.Summary != "did not finish before the overall deadline (3s)" || !strings.Contains(c.Fix, "-timeout") {
			t.Errorf("stuck check = %+v", c)
		}
		if rep.Checks[1].Status != StatusOK || rep.Errors != 1 || !rep.Failed() {
			t.Errorf("report = %+v", rep)
		}
		close(release)
		synctest.Wait()
	})
}

func TestCallerCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	reg := []*check{fakeCheck("a.waits", func(ctx context.Context, _ *runner) Result {
		<-ctx.Done()
		return Result{Status: StatusSkip, Summary: "canceled"}
	})}
	rep := run(ctx, testOptions(t), reg)
	if rep.Checks[0].Summary != "canceled" {
		t.Errorf("result = %+v", rep.Checks[0])
	}
}

func TestSelection(t *testing.T) {
	opts := testOptions(t)
	opts.Offline = true
	opts.Checks = []string{"tls", "goproxy.syntax", "nosuch.check"}
	rep := Run(context.Background(), opts)
	var ids []string
	for _, c := range rep.Checks {
		ids = append(ids, c.ID)
	}
	want := []string{"goproxy.syntax", "tls.verify", "tls.clock", "nosuch.check"}
	if !slices.Equal(ids, want) {
		t.Fatalf("selected %q, want %q", ids, want)
	}
	if c := rep.Checks[1]; c.Status != StatusSkip || c.Summary != "live probe skipped (offline)" {
		t.Errorf("offline live probe = %+v", c)
	}
	if c := rep.Checks[3]; c.Status != StatusError || c.Summary != `unknown check "nosuch.check"` || !strings.Contains(c.Fix, "go.version") {
		t.Errorf("unknown check = %+v", c)
	}
}

func TestChecksRegistry(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Checks() {
		if seen[c.ID] {
			t.Errorf("duplicate check ID %s", c.ID)
		}
		seen[c.ID] = true
		if c.Doc == "" || !slices.Contains(areaOrder, c.Area) || !strings.Contains(c.ID, ".") {
			t.Errorf("check %+v lacks a doc, a known area or a dotted ID", c)
		}
	}
	// The IDs the issue promises, which scripts may match on.
	for _, id := range []string{"go.version", "env.goroot-defaults", "env.goenv-file", "env.unknown-vars", "goflags.parse",
		"goproxy.syntax", "goproxy.fallback", "private.patterns", "private.coverage", "sumdb.off", "gosumdb.syntax",
		"goinsecure.misuse", "proxyenv.vars", "auth.netrc", "cache.gomodcache", "cache.gocache", "direct.git",
		"goproxy.reach", "sumdb.route", "proxyenv.reach", "dns.resolve", "tcp.connect", "tls.verify", "tls.clock"} {
		if !seen[id] {
			t.Errorf("check %s is missing", id)
		}
	}
}

// TestOfflineTouchesNoNetwork runs every check offline with a resolver
// and dialer that fail the test if used.
func TestOfflineTouchesNoNetwork(t *testing.T) {
	env, _ := probeEnv(t, vars("GOPRIVATE", "git.corp.example.test", "HTTPS_PROXY", "http://squid.example.test:3128"))
	rep := Run(context.Background(), Options{Env: env, Offline: true,
		LookupHost: func(_ context.Context, host string) ([]string, error) {
			t.Errorf("offline run resolved %s", host)
			return nil, nil
		},
		freeSpace: func(string) (uint64, error) { return 50 << 30, nil },
	})
	if len(rep.Checks) != len(Checks()) {
		t.Errorf("ran %d checks, want %d", len(rep.Checks), len(Checks()))
	}
}

// TestProcessEnv runs with a nil Env: the process environment is loaded.
func TestProcessEnv(t *testing.T) {
	t.Setenv("GOENV", "off")
	t.Setenv("GOPROXY", "https://a.example.test;https://b.example.test")
	// Loading the environment runs 'go env GOROOT', which must not leave
	// telemetry writing under HOME while the test cleans it up.
	t.Setenv("HOME", testenv.Home(t))
	rep := Run(context.Background(), Options{Offline: true, Checks: []string{"goproxy.syntax"}})
	if c := rep.Checks[0]; c.Status != StatusError || !strings.Contains(c.Fix, "export GOPROXY=https://a.example.test,https://b.example.test") {
		t.Errorf("result = %+v", c)
	}
}
