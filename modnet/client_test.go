package modnet

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/module"

	"github.com/modkit/modkit/internal/testenv"
	"github.com/modkit/modkit/modnet/modnettest"
	"github.com/modkit/modkit/retry"
)

// clientEnv returns an isolated Env: no GOENV file, no go.env, an empty
// module cache, and the given variables.
func clientEnv(t testing.TB, kv ...string) (*Env, string) {
	t.Helper()
	cache := filepath.Join(t.TempDir(), "modcache")
	m := map[string]string{"GOENV": "off", "GOROOT": t.TempDir(), "HOME": t.TempDir(),
		"GOMODCACHE": cache, "GOPATH": filepath.Join(t.TempDir(), "gopath"), "GOFLAGS": "-modcacherw",
		"PATH": os.Getenv("PATH")}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	env, err := LoadEnvFrom(m)
	if err != nil {
		t.Fatal(err)
	}
	return env, cache
}

func libModule(path, version string) modnettest.Module {
	return modnettest.Module{Path: path, Version: version, Files: map[string]string{
		"lib.go": "package lib\n\n// Hello greets.\nfunc Hello() string { return \"hello from " + version + "\" }\n",
	}}
}

// cacheEntries lists what the module cache holds, relative to its root,
// leaving out lock files and the checksum database's files.
func cacheEntries(t testing.TB, dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if strings.HasSuffix(rel, ".lock") || strings.Contains(rel, "sumdb") || rel == filepath.Join("cache", "lock") {
			return nil
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	return out
}

// TestDownloadThenGoOffline downloads a module with the Client, verified by
// a checksum database, then has the go command use the cache with the
// network off: 'go mod download -json' and 'go build' must succeed.
func TestDownloadThenGoOffline(t *testing.T) {
	testenv.GoBin(t)
	lib := libModule("127.0.0.1/lib/Greet", "v1.2.0")
	srv := modnettest.NewServer(lib)
	defer srv.Close()

	env, cache := clientEnv(t, "GOPROXY", srv.URL, "GOSUMDB", srv.SumDB().GOSUMDB())
	c := &Client{Env: env, HTTP: fastRetry()}
	defer c.Close()
	m, err := c.Download(context.Background(), lib.Path, lib.Version)
	if err != nil {
		t.Fatal(err)
	}
	sums, err := lib.GoSum()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sums, m.Sum) || !strings.Contains(sums, m.GoModSum) {
		t.Fatalf("hashes %s %s not in the expected go.sum:\n%s", m.Sum, m.GoModSum, sums)
	}
	if got := srv.Requests(); !strings.Contains(got.String(), "/sumdb/") {
		t.Errorf("the checksum database was not consulted:\n%s", got)
	}

	offline := testenv.NewGo(t, "GOMODCACHE="+cache, "GOPROXY=off", "GOSUMDB=off")
	cmd := offline.Command("mod", "download", "-json", lib.Path+"@"+lib.Version)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), `"Dir": "`+m.Dir+`"`) {
		t.Fatalf("offline go mod download: %v\n%s", err, out)
	}

	main := t.TempDir()
	writeFile(t, filepath.Join(main, "go.mod"), "module example.test/app\n\ngo 1.21\n\nrequire "+lib.Path+" "+lib.Version+"\n")
	writeFile(t, filepath.Join(main, "go.sum"), sums)
	writeFile(t, filepath.Join(main, "main.go"), "package main\n\nimport lib \""+lib.Path+"\"\n\nfunc main() { println(lib.Hello()) }\n")
	offline.Dir = main
	cmd = offline.Command("build", "-o", filepath.Join(t.TempDir(), "app"), ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("offline go build: %v\n%s", err, out)
	}
	cmd = offline.Command("mod", "verify")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go mod verify: %v\n%s", err, out)
	}
}

// TestCorruptAnswersNeverReachTheCache serves broken module files and checks
// that each is rejected with a clear error and leaves nothing in the cache.
func TestCorruptAnswersNeverReachTheCache(t *testing.T) {
	good := libModule("127.0.0.1/corrupt/m", "v1.0.0")
	goodZip, err := good.BuildZip()
	if err != nil {
		t.Fatal(err)
	}
	other := libModule("127.0.0.1/corrupt/m", "v1.0.0")
	other.Files["extra.go"] = "package lib\n"
	otherSums, _ := other.GoSum()

	zipWith := func(names ...string) []byte {
		var files []zipEntry
		for _, n := range names {
			files = append(files, zipEntry{n, "package lib\n"})
		}
		files = append(files, zipEntry{"127.0.0.1/corrupt/m@v1.0.0/go.mod", "module 127.0.0.1/corrupt/m\n"})
		return makeZip(t, files)
	}
	tests := []struct {
		name    string
		mod     func() modnettest.Module
		faults  modnettest.Faults
		gosum   string // expected hashes; empty means the checksum database is off
		noRetry bool
		want    string
	}{
		{name: "wrong hash against go.sum", mod: func() modnettest.Module { return good }, gosum: otherSums,
			want: "checksum mismatch"},
		{name: "truncated zip", mod: func() modnettest.Module { return good },
			faults: modnettest.Faults{Rules: []modnettest.Rule{{Kind: modnettest.KindZip, Fault: modnettest.Cut(int64(len(goodZip) / 2))}}},
			want:   "unexpected EOF"},
		{name: "truncated zip without retries", mod: func() modnettest.Module { return good }, noRetry: true,
			faults: modnettest.Faults{Rules: []modnettest.Rule{{Kind: modnettest.KindZip, Fault: modnettest.Cut(int64(len(goodZip) / 2))}}},
			want:   "unexpected EOF"},
		{name: "wrong prefix", mod: func() modnettest.Module {
			m := good
			m.Zip = zipWith("example.com/other@v1.0.0/lib.go")
			return m
		}, want: "example.com/other@v1.0.0/lib.go"},
		{name: "escaping path", mod: func() modnettest.Module {
			m := good
			m.Zip = zipWith("127.0.0.1/corrupt/m@v1.0.0/../../evil.go")
			return m
		}, want: "evil.go"},
		{name: "oversize file", mod: func() modnettest.Module {
			m := good
			m.Zip = makeZip(t, []zipEntry{{"127.0.0.1/corrupt/m@v1.0.0/go.mod", strings.Repeat("// x\n", 4<<20)}})
			return m
		}, want: "go.mod"},
		{name: "empty 200", mod: func() modnettest.Module { return good },
			faults: modnettest.Faults{Rules: []modnettest.Rule{{Kind: modnettest.KindZip, Fault: modnettest.Body("")}}},
			want:   "corrupt module zip"},
		{name: "garbage body", mod: func() modnettest.Module { return good },
			faults: modnettest.Faults{Rules: []modnettest.Rule{{Kind: modnettest.KindZip, Fault: modnettest.Body("<html>proxy error</html>")}}},
			want:   "corrupt module zip"},
		{name: "corrupted byte", mod: func() modnettest.Module { return good }, gosum: func() string { s, _ := good.GoSum(); return s }(),
			faults: modnettest.Faults{Rules: []modnettest.Rule{{Kind: modnettest.KindZip, Fault: modnettest.Corrupt()}}},
			want:   "corrupt module zip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := modnettest.NewServer(tt.mod())
			defer srv.Close()
			srv.SetFaults(tt.faults)
			env, cache := clientEnv(t, "GOPROXY", srv.URL, "GOSUMDB", "off")
			c := &Client{Env: env, HTTP: fastRetry(), NoRetry: tt.noRetry}
			defer c.Close()
			if tt.gosum != "" {
				c.GoSum, err = ParseGoSum([]byte(tt.gosum), "go.sum")
				if err != nil {
					t.Fatal(err)
				}
			}
			_, err := c.Download(context.Background(), good.Path, good.Version)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Download error = %v, want one mentioning %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), good.Path+"@"+good.Version+": ") || strings.Count(err.Error(), good.Path+"@"+good.Version+": ") != 1 {
				t.Errorf("error %q does not name the module version exactly once", err)
			}
			for _, f := range cacheEntries(t, cache) {
				if strings.HasSuffix(f, ".zip") || strings.HasSuffix(f, ".ziphash") || strings.Contains(f, ".tmp") ||
					strings.Contains(f, ".partial") || strings.HasPrefix(f, "127.0.0.1/") {
					t.Errorf("the cache keeps %s after a rejected download", f)
				}
			}
		})
	}
}

type zipEntry struct{ name, body string }

func makeZip(t testing.TB, files []zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.Create(f.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(f.body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestChecksumMismatchPersists checks that a mismatch that persists is
// reported as the security error it is (a *ChecksumError), after as many
// downloads of the zip as the retry client makes attempts (a copy
// corrupted in transit would have healed), or exactly one with NoRetry or
// HTTP.Disabled, which mean the same, as in the go command; the first
// mismatch is logged as a warning; nothing reaches the cache.
func TestChecksumMismatchPersists(t *testing.T) {
	for _, tc := range []struct {
		noRetry, disabled bool
		zips              int
	}{{false, false, 3}, {true, false, 1}, {false, true, 1}} {
		t.Run(fmt.Sprintf("NoRetry=%v,Disabled=%v", tc.noRetry, tc.disabled), func(t *testing.T) {
			lib := libModule("127.0.0.1/sec/m", "v1.0.0")
			srv := modnettest.NewServer(lib)
			defer srv.Close()
			srv.SumDB().SetMode(modnettest.SumDBWrongHash)
			env, cache := clientEnv(t, "GOPROXY", srv.URL, "GOSUMDB", srv.SumDB().GOSUMDB())
			h := fastRetry()
			h.MaxAttempts = 3
			h.Disabled = tc.disabled
			var logged strings.Builder
			c := &Client{Env: env, HTTP: h, NoRetry: tc.noRetry, Logger: slog.New(slog.NewTextHandler(&logged, nil))}
			defer c.Close()
			_, err := c.Download(context.Background(), lib.Path, lib.Version)
			var ce *ChecksumError
			if !errors.As(err, &ce) {
				t.Fatalf("Download error = %v, want a *ChecksumError", err)
			}
			if errors.Is(err, fs.ErrNotExist) {
				t.Error("a checksum mismatch matches fs.ErrNotExist; it would let a route fall through")
			}
			if !strings.Contains(err.Error(), "SECURITY ERROR") {
				t.Errorf("error %q does not say it is a security error", err)
			}
			if w := "level=WARN msg=\"downloaded content failed verification\" module=127.0.0.1/sec/m@v1.0.0 file=zip"; !strings.Contains(logged.String(), w) {
				t.Errorf("log lacks %q:\n%s", w, logged.String())
			}
			zips := 0
			for _, r := range srv.Requests() {
				if r.Kind == modnettest.KindZip {
					zips++
				}
			}
			if zips != tc.zips {
				t.Errorf("%d downloads of the rejected zip, want %d:\n%s", zips, tc.zips, srv.Requests())
			}
			for _, f := range cacheEntries(t, cache) {
				if strings.HasSuffix(f, ".zip") || strings.HasSuffix(f, ".ziphash") || strings.Contains(f, "@v1.0.0/") {
					t.Errorf("rejected file %s reached the cache", f)
				}
			}
		})
	}
}

// TestCorruptTransferHeals: a zip and a go.mod corrupted in transit (one
// byte flipped, the right length) on their first two downloads are
// downloaded again and verify on the third; the cache holds only the good
// copies.
func TestCorruptTransferHeals(t *testing.T) {
	lib := libModule("127.0.0.1/heal/m", "v1.0.0")
	srv := modnettest.NewServer(lib)
	defer srv.Close()
	srv.SetFaults(modnettest.Faults{Rules: []modnettest.Rule{
		{Kind: modnettest.KindZip, First: 2, Fault: modnettest.Corrupt()},
		{Kind: modnettest.KindMod, First: 2, Fault: modnettest.Corrupt()},
	}})
	env, _ := clientEnv(t, "GOPROXY", srv.URL, "GOSUMDB", srv.SumDB().GOSUMDB())
	h := fastRetry()
	h.MaxAttempts = 3
	c := &Client{Env: env, HTTP: h}
	defer c.Close()
	files, err := c.Download(context.Background(), lib.Path, lib.Version)
	if err != nil {
		t.Fatalf("Download: %v", err)
	}
	want, _ := lib.GoSum()
	if !strings.Contains(want, files.Sum) || !strings.Contains(want, files.GoModSum) {
		t.Errorf("stored hashes %s, %s; want those of %q", files.Sum, files.GoModSum, want)
	}
	data, err := os.ReadFile(filepath.Join(files.Dir, "go.mod"))
	if err != nil || string(data) != "module 127.0.0.1/heal/m\n" {
		t.Errorf("extracted go.mod = %q, %v", data, err)
	}
	counts := map[modnettest.FileKind]int{}
	for _, r := range srv.Requests() {
		counts[r.Kind]++
	}
	if counts[modnettest.KindZip] != 3 || counts[modnettest.KindMod] != 3 {
		t.Errorf("downloads: %d zips and %d go.mod files, want 3 of each:\n%s", counts[modnettest.KindZip], counts[modnettest.KindMod], srv.Requests())
	}
}

// TestChecksumDatabase exercises verification against a local database:
// a good lookup passes, lies are security errors, GONOSUMDB paths never
// reach the database.
func TestChecksumDatabase(t *testing.T) {
	for _, tt := range []struct {
		mode    modnettest.SumDBMode
		nosum   bool
		wantErr string
	}{
		{mode: modnettest.SumDBHonest},
		{mode: modnettest.SumDBWrongHash, wantErr: "checksum mismatch"},
		{mode: modnettest.SumDBTamperedRecord, wantErr: "verifying"},
		{mode: modnettest.SumDBBadSignature, wantErr: "verifying"},
		{mode: modnettest.SumDBWrongHash, nosum: true},
	} {
		t.Run(fmt.Sprintf("mode%d/nosum=%v", tt.mode, tt.nosum), func(t *testing.T) {
			lib := libModule("127.0.0.1/db/m", "v1.0.0")
			srv := modnettest.NewServer(lib)
			defer srv.Close()
			srv.SumDB().SetMode(tt.mode)
			kv := []string{"GOPROXY", srv.URL, "GOSUMDB", srv.SumDB().GOSUMDB()}
			if tt.nosum {
				kv = append(kv, "GONOSUMDB", "127.0.0.1/db")
			}
			env, _ := clientEnv(t, kv...)
			c := &Client{Env: env, HTTP: fastRetry()}
			defer c.Close()
			_, err := c.Download(context.Background(), lib.Path, lib.Version)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Download: %v", err)
			}
			if tt.wantErr != "" {
				var ce *ChecksumError
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Download error = %v, want a *ChecksumError mentioning %q", err, tt.wantErr)
				}
			}
			asked := strings.Contains(srv.Requests().String(), "/sumdb/")
			if tt.nosum && asked {
				t.Errorf("a GONOSUMDB path reached the checksum database:\n%s", srv.Requests())
			}
			if !tt.nosum && !asked {
				t.Errorf("the checksum database was not consulted:\n%s", srv.Requests())
			}
		})
	}
}

// TestDownloadSurvivesFaults serves through a seeded mix of resets, 429,
// 503, cut bodies and short stalls: the Client must still download and
// verify, where a single attempt would fail.
func TestDownloadSurvivesFaults(t *testing.T) {
	var mods []modnettest.Module
	for i := 0; i < 8; i++ {
		m := libModule(fmt.Sprintf("127.0.0.1/faulty/m%d", i), "v1.0.0")
		m.Files["data.txt"] = strings.Repeat(fmt.Sprintf("line %d\n", i), 20000)
		mods = append(mods, m)
	}
	srv := modnettest.NewServer(mods...)
	defer srv.Close()
	f := modnettest.StandardMix(7)
	for i := range f.Mix {
		if f.Mix[i].Fault.Kind == modnettest.FaultStall {
			f.Mix[i].Fault.Duration = 300 * time.Millisecond
		}
		if f.Mix[i].Fault.Kind == modnettest.FaultStatus {
			f.Mix[i].Fault.RetryAfter = "0"
		}
	}
	srv.SetFaults(f)
	env, _ := clientEnv(t, "GOPROXY", srv.URL, "GOSUMDB", srv.SumDB().GOSUMDB())
	hc := fastRetry()
	hc.StallTimeout = 100 * time.Millisecond
	hc.ResponseHeaderTimeout = 200 * time.Millisecond
	hc.MaxAttempts = 8
	c := &Client{Env: env, HTTP: hc}
	defer c.Close()
	var wg sync.WaitGroup
	errs := make([]error, len(mods))
	for i, m := range mods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.Download(context.Background(), m.Path, m.Version)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("%s: %v", mods[i], err)
		}
	}
	faults := 0
	for _, r := range srv.Requests() {
		if r.Fault.Kind != modnettest.NoFault {
			faults++
		}
	}
	if faults == 0 {
		t.Error("no fault was injected; the test proves nothing")
	}
}

// TestCredentials checks GOAUTH/.netrc through the Client: credentials go
// to https servers only, never over http, never to another host after a
// redirect, and never into errors or logs.
func TestCredentials(t *testing.T) {
	lib := libModule("127.0.0.1/auth/m", "v1.0.0")
	const secret = "s3cret-pa55"

	tlsSrv := modnettest.NewUnstartedServer(lib)
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	tlsSrv.RequireBasicAuth("alice", secret)
	hostPort := strings.TrimPrefix(tlsSrv.URL, "https://")
	netrc := filepath.Join(t.TempDir(), "netrc")
	writeFile(t, netrc, "machine "+hostPort+" login alice password "+secret+"\n")
	os.Chmod(netrc, 0o600)

	var logBuf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	newClient := func(proxy string) *Client {
		env, _ := clientEnv(t, "GOPROXY", proxy, "GOSUMDB", "off", "NETRC", netrc)
		hc := fastRetry()
		hc.Transport = tlsSrv.Client().Transport.(*http.Transport).Clone()
		hc.Logger = logger
		return &Client{Env: env, HTTP: hc, Logger: logger}
	}

	t.Run("https gets the netrc credentials", func(t *testing.T) {
		c := newClient(tlsSrv.URL)
		defer c.Close()
		if _, err := c.Download(context.Background(), lib.Path, lib.Version); err != nil {
			t.Fatalf("Download over https with netrc: %v", err)
		}
	})

	t.Run("http never gets them", func(t *testing.T) {
		var sawAuth bool
		var mu sync.Mutex
		plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			sawAuth = sawAuth || r.Header.Get("Authorization") != ""
			mu.Unlock()
			http.Error(w, "no", http.StatusUnauthorized)
		}))
		defer plain.Close()
		// The netrc names this http server's host:port too.
		writeFile(t, netrc, "machine "+hostPort+" login alice password "+secret+"\nmachine "+strings.TrimPrefix(plain.URL, "http://")+" login alice password "+secret+"\n")
		c := newClient(plain.URL)
		defer c.Close()
		_, err := c.Download(context.Background(), lib.Path, lib.Version)
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("Download from a plain http server = %v, want a 401", err)
		}
		if sawAuth {
			t.Error("credentials were sent over plain http")
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error leaks the password: %v", err)
		}
	})

	t.Run("no credentials after a cross-host redirect", func(t *testing.T) {
		other := modnettest.NewUnstartedServer(lib)
		other.StartTLS()
		defer other.Close()
		redirector := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
		}))
		redirector.StartTLS()
		defer redirector.Close()
		rHost := strings.TrimPrefix(redirector.URL, "https://")
		oHost := strings.TrimPrefix(other.URL, "https://")
		writeFile(t, netrc, "machine "+rHost+" login alice password "+secret+"\n")
		c := newClient(redirector.URL)
		defer c.Close()
		if _, err := c.Download(context.Background(), lib.Path, lib.Version); err != nil {
			t.Fatalf("Download through a redirect: %v", err)
		}
		for _, r := range other.Requests() {
			if r.Header.Get("Authorization") != "" {
				t.Errorf("%s received credentials meant for %s", oHost, rHost)
			}
		}
	})

	if strings.Contains(logBuf.String(), secret) {
		t.Errorf("the log leaks the password:\n%s", logBuf.String())
	}
}

// TestDownloadAlongsideGoCommand has the go command and the Client fill one
// module cache with the same modules at the same time: both must succeed
// and 'go mod verify' must pass.
func TestDownloadAlongsideGoCommand(t *testing.T) {
	testenv.GoBin(t)
	var mods []modnettest.Module
	var requires, sums strings.Builder
	for i := 0; i < 6; i++ {
		m := libModule(fmt.Sprintf("127.0.0.1/shared/m%d", i), "v1.0.0")
		m.Files["data.txt"] = strings.Repeat("x", 200000)
		mods = append(mods, m)
		fmt.Fprintf(&requires, "require %s %s\n", m.Path, m.Version)
		s, _ := m.GoSum()
		sums.WriteString(s)
	}
	srv := modnettest.NewServer(mods...)
	defer srv.Close()
	// Slow answers make the two downloaders overlap.
	srv.SetFaults(modnettest.Faults{Latency: 20 * time.Millisecond})

	for round := 0; round < 3; round++ {
		env, cache := clientEnv(t, "GOPROXY", srv.URL, "GOSUMDB", "off")
		main := t.TempDir()
		writeFile(t, filepath.Join(main, "go.mod"), "module example.test/app\n\ngo 1.21\n\n"+requires.String())
		writeFile(t, filepath.Join(main, "go.sum"), sums.String())
		g := testenv.NewGo(t, "GOMODCACHE="+cache, "GOPROXY="+srv.URL, "GOSUMDB=off")
		g.Dir = main

		var wg sync.WaitGroup
		var goOut []byte
		var goErr error
		wg.Add(1)
		go func() {
			defer wg.Done()
			goOut, goErr = g.Command("mod", "download").CombinedOutput()
		}()
		c := &Client{Env: env, HTTP: fastRetry()}
		c.GoSum, _ = ParseGoSum([]byte(sums.String()), "go.sum")
		errs := make([]error, len(mods))
		for i, m := range mods {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = c.Download(context.Background(), m.Path, m.Version)
			}()
		}
		wg.Wait()
		c.Close()
		if goErr != nil {
			t.Fatalf("round %d: go mod download: %v\n%s", round, goErr, goOut)
		}
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: modkit %s: %v", round, mods[i], err)
			}
		}
		if out, err := g.Command("mod", "verify").CombinedOutput(); err != nil {
			t.Fatalf("round %d: go mod verify: %v\n%s", round, err, out)
		}
	}
}

// TestNotFoundIsOneRequest checks that a missing version costs one request
// per file kind and matches fs.ErrNotExist.
func TestNotFoundIsOneRequest(t *testing.T) {
	srv := modnettest.NewServer()
	defer srv.Close()
	env, _ := clientEnv(t, "GOPROXY", srv.URL, "GOSUMDB", "off")
	c := &Client{Env: env}
	defer c.Close()
	_, err := c.Info(context.Background(), "127.0.0.1/none/m", "v1.0.0")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Info of a missing module = %v, want an error matching fs.ErrNotExist", err)
	}
	var re *retry.Error
	if !errors.As(err, &re) || re.Class != retry.NotFound {
		t.Errorf("error %v does not carry retry class not-found", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests for a missing version, want 1", n)
	}
}

// TestQueries checks List, Latest and Query against a proxy with releases,
// a pre-release, a retracted version and +incompatible versions.
func TestQueries(t *testing.T) {
	path := "127.0.0.1/q/m"
	mods := []modnettest.Module{
		libModule(path, "v1.0.0"), libModule(path, "v1.1.0"), libModule(path, "v1.2.0-rc.1"),
		{Path: path, Version: "v1.1.1", Retract: []string{"v1.1.1"}, Files: map[string]string{"lib.go": "package lib\n"}},
	}
	srv := modnettest.NewServer(mods...)
	defer srv.Close()
	env, _ := clientEnv(t, "GOPROXY", srv.URL, "GOSUMDB", "off")
	c := &Client{Env: env}
	defer c.Close()
	ctx := context.Background()

	list, err := c.List(ctx, path)
	if err != nil || strings.Join(list, " ") != "v1.0.0 v1.1.0 v1.1.1 v1.2.0-rc.1" {
		t.Errorf("List = %v, %v", list, err)
	}
	for query, want := range map[string]string{
		"latest": "v1.1.0", "v1": "v1.1.0", "v1.0": "v1.0.0", "<v1.1.0": "v1.0.0", ">=v1.0.1": "v1.1.0",
		// v1.1.1 is retracted, so the closest allowed version above v1.1.0
		// is the pre-release (modload.queryProxy with preferLower).
		"v1.0.0": "v1.0.0", ">v1.1.0": "v1.2.0-rc.1",
	} {
		info, err := c.Query(ctx, path, query)
		if err != nil || info.Version != want {
			t.Errorf("Query(%q) = %v, %v; want %s", query, info, err, want)
		}
	}
	rs, err := c.Retractions(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := rs.Retracted("v1.1.1"); !ok {
		t.Errorf("Retractions does not report v1.1.1 retracted: %+v", rs)
	}
	if _, err := c.Query(ctx, path, "v2"); err == nil || !strings.Contains(err.Error(), "no matching versions") {
		t.Errorf("Query(v2) error = %v, want no matching versions", err)
	}
}

// TestInfoFromCache checks that a second Info, GoMod and Zip are answered
// from the cache without any request.
func TestInfoFromCache(t *testing.T) {
	lib := libModule("127.0.0.1/cached/m", "v1.0.0")
	srv := modnettest.NewServer(lib)
	defer srv.Close()
	env, _ := clientEnv(t, "GOPROXY", srv.URL, "GOSUMDB", "off")
	c := &Client{Env: env}
	defer c.Close()
	ctx := context.Background()
	if _, err := c.Download(ctx, lib.Path, lib.Version); err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()
	c2 := &Client{Env: env}
	defer c2.Close()
	if _, err := c2.Download(ctx, lib.Path, lib.Version); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("a second download made %d requests, want 0:\n%s", n, srv.Requests())
	}
	mod := module.Version{Path: lib.Path, Version: lib.Version}
	if dir, err := c2.cache.ModuleDir(mod); err != nil || dir == "" {
		t.Errorf("ModuleDir = %q, %v", dir, err)
	}
}

// TestClientUsesEnvProxy checks that the Client's requests go through the
// HTTP proxy its Env names, not the process's: the proxy here forwards to a
// modnettest server standing for a mirror host that has no DNS entry.
func TestClientUsesEnvProxy(t *testing.T) {
	lib := libModule("127.0.0.1/proxied/m", "v1.0.0")
	srv := modnettest.NewServer(lib)
	defer srv.Close()
	target, _ := url.Parse(srv.URL)
	var proxied atomic.Int32
	rp := httputil.NewSingleHostReverseProxy(target)
	fwd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Host != "mirror.modkit.test" {
			http.Error(w, "unexpected host "+r.URL.Host, http.StatusBadGateway)
			return
		}
		proxied.Add(1)
		r.Host = target.Host
		rp.ServeHTTP(w, r)
	}))
	defer fwd.Close()
	env, _ := clientEnv(t, "GOPROXY", "http://mirror.modkit.test", "GOSUMDB", "off", "HTTP_PROXY", fwd.URL)
	c := &Client{Env: env, HTTP: fastRetry()}
	defer c.Close()
	if _, err := c.Download(context.Background(), lib.Path, lib.Version); err != nil {
		t.Fatalf("Download through HTTP_PROXY: %v", err)
	}
	if proxied.Load() < 3 {
		t.Errorf("%d requests went through the proxy, want info, mod and zip", proxied.Load())
	}
}
