package modnettest

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/modkit/modkit/internal/testenv"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestProtocol(t *testing.T) {
	mods := append(testModules(), Module{
		Path:    "example.com/hello",
		Version: "v1.2.0-pre.1",
	}, Module{
		Path:    "example.com/hello",
		Version: "v0.0.0-20240102030405-abcdefabcdef",
	}, Module{
		Path:    "example.com/pseudo",
		Version: "v0.0.0-20230102030405-abcdefabcdef",
	})
	srv := NewServer(mods...)
	defer srv.Close()
	c := srv.Client()
	hello := mods[1]
	helloZip, _ := hello.BuildZip()

	for _, tc := range []struct {
		method, path string
		header       map[string]string
		status       int
		body         string // exact body, or "~text" for a body containing text
		respHeader   map[string]string
	}{
		{"GET", "/example.com/hello/@v/list", nil, 200, "v1.0.0\nv1.1.0\nv1.2.0-pre.1\n", map[string]string{"Content-Type": "text/plain; charset=utf-8"}},
		{"GET", "/example.com/hello/@latest", nil, 200, `{"Version":"v1.1.0","Time":"2024-01-01T00:00:00Z"}` + "\n", nil},
		{"GET", "/example.com/pseudo/@latest", nil, 200, `{"Version":"v0.0.0-20230102030405-abcdefabcdef","Time":"2023-01-02T03:04:05Z"}` + "\n", nil},
		{"GET", "/example.com/pseudo/@v/list", nil, 200, "", nil},
		{"GET", "/example.com/hello/@v/v1.1.0.info", nil, 200, `{"Version":"v1.1.0","Time":"2024-01-01T00:00:00Z"}` + "\n", map[string]string{"Content-Type": "application/json"}},
		{"GET", "/example.com/hello/@v/v1.1.0.mod", nil, 200, "module example.com/hello\n\ngo 1.21\nretract v1.0.0 // too early\n", nil},
		{"GET", "/example.com/hello/@v/v1.1.0.zip", nil, 200, string(helloZip), map[string]string{"Content-Type": "application/zip", "Accept-Ranges": "bytes"}},
		{"HEAD", "/example.com/hello/@v/v1.1.0.zip", nil, 200, "", map[string]string{"Content-Length": strconv.Itoa(len(helloZip))}},
		{"GET", "/example.com/hello/@v/v1.1.0.zip", map[string]string{"Range": "bytes=10-19"}, 206, string(helloZip[10:20]), map[string]string{"Content-Range": "bytes 10-19/" + strconv.Itoa(len(helloZip))}},
		{"GET", "/example.com/hello/@v/v1.1.0.zip", map[string]string{"Range": "bytes=10-", "If-Range": strongETag(helloZip)}, 206, string(helloZip[10:]), nil},
		{"GET", "/example.com/hello/@v/v1.1.0.zip", map[string]string{"Range": "bytes=10-", "If-Range": `"stale"`}, 200, string(helloZip), nil},
		{"GET", "/example.com/hello/@v/v1.1.0.zip", map[string]string{"If-None-Match": strongETag(helloZip)}, 304, "", nil},
		{"GET", "/example.com/!upper/!mod/v2/@v/list", nil, 200, "v2.3.0\n", nil},
		{"GET", "/example.com/Upper/Mod/v2/@v/list", nil, 404, "~invalid escaped module path", nil},
		{"GET", "/example.com/nope/@v/list", nil, 404, "~unknown module example.com/nope", nil},
		{"GET", "/example.com/hello/@v/v9.9.9.info", nil, 404, "~example.com/hello@v9.9.9: unknown version", nil},
		{"GET", "/example.com/hello/@v/master.info", nil, 404, "~unknown version", nil},
		{"GET", "/example.com/hello/@v/v1.1.0.txt", nil, 404, "~not found", nil},
		{"GET", "/", nil, 404, "~not found", nil},
		{"GET", "/sumdb/" + srv.SumDB().Name() + "/supported", nil, 200, "", nil},
		{"GET", "/sumdb/sum.example.org/supported", nil, 404, "~no checksum database named sum.example.org", nil},
		{"GET", "/sumdb/" + srv.SumDB().Name() + "/lookup/example.com/hello@v1.1.0", nil, 200, "~example.com/hello v1.1.0 h1:", nil},
		{"GET", "/sumdb/" + srv.SumDB().Name() + "/lookup/example.com/hello@v9.0.0", nil, 404, "", nil},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Errorf("%s %s: %v", tc.method, tc.path, err)
			continue
		}
		body := readAll(resp)
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s %v: status %d, want %d; body %q", tc.method, tc.path, tc.header, resp.StatusCode, tc.status, body)
		}
		if text, ok := strings.CutPrefix(tc.body, "~"); ok {
			if !strings.Contains(body, text) {
				t.Errorf("%s %s: body %q does not contain %q", tc.method, tc.path, body, text)
			}
		} else if body != tc.body && tc.status != 404 {
			t.Errorf("%s %s %v: body %q, want %q", tc.method, tc.path, tc.header, trim(body), trim(tc.body))
		}
		for k, v := range tc.respHeader {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s %s: %s = %q, want %q", tc.method, tc.path, k, got, v)
			}
		}
	}
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func trim(s string) string {
	if len(s) > 100 {
		return s[:100] + "..."
	}
	return s
}

func TestBasicAuthOverTLS(t *testing.T) {
	srv := NewUnstartedServer(testModules()...)
	srv.RequireBasicAuth("alice", "s3cret")
	srv.StartTLS()
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "https://127.0.0.1:") {
		t.Fatalf("URL = %q, want https on loopback", srv.URL)
	}
	c := srv.Client()
	resp, err := c.Get(srv.URL + "/example.com/hello/@v/list")
	if err != nil {
		t.Fatal(err)
	}
	readAll(resp)
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("without credentials: %s, WWW-Authenticate %q; want 401 with a challenge", resp.Status, resp.Header.Get("WWW-Authenticate"))
	}
	req, _ := http.NewRequest("GET", srv.URL+"/example.com/hello/@v/list", nil)
	req.SetBasicAuth("alice", "s3cret")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	readAll(resp)
	if resp.StatusCode != 200 {
		t.Errorf("with credentials: %s, want 200", resp.Status)
	}
	log := srv.Requests()
	if len(log) != 2 || log[0].Header.Get("Authorization") != "" || log[1].Header.Get("Authorization") == "" {
		t.Errorf("log does not show which request carried credentials:\n%s", log)
	}
}

// TestGoCommandNetrcTLS runs the go command against the TLS server with
// credentials from a .netrc file, trusting the server's certificate through
// SSL_CERT_FILE: the setup credential tests need.
func TestGoCommandNetrcTLS(t *testing.T) {
	srv := NewUnstartedServer(testModules()...)
	srv.RequireBasicAuth("alice", "s3cret")
	srv.StartTLS()
	defer srv.Close()
	cert := testenv.CertFile(t, srv.Certificate())
	netrc := filepath.Join(t.TempDir(), "netrc")
	// cmd/go stores a netrc machine as a URL prefix (auth/auth.go,
	// runGoAuth and storeCredential), so the port belongs in it.
	host := strings.TrimPrefix(srv.URL, "https://")
	if err := os.WriteFile(netrc, []byte("machine "+host+" login alice password s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := testenv.NewGo(t, "GOPROXY="+srv.URL, "GOSUMDB="+srv.SumDB().GOSUMDB(), "SSL_CERT_FILE="+cert, "NETRC="+netrc)
	g.MustRun("mod", "download", "-json", "example.com/hello@v1.1.0")
	for _, r := range srv.Requests() {
		if r.Status != 200 {
			t.Errorf("request not answered 200: %s", r)
		}
	}
}

// TestAddAfterStart adds a version to a running server and replaces another:
// the list grows at once, and the checksum database keeps vouching for the
// first content of the replaced version, so the go command sees a mismatch.
func TestAddAfterStart(t *testing.T) {
	mods := testModules()
	srv := NewServer(mods...)
	defer srv.Close()
	if err := srv.Add(Module{Path: "example.com/hello", Version: "v1.3.0"}); err != nil {
		t.Fatal(err)
	}
	if _, body, err := get(srv.Client(), srv.URL+"/example.com/hello/@v/list"); err != nil || string(body) != "v1.0.0\nv1.1.0\nv1.3.0\n" {
		t.Errorf("list after Add = %q, %v", body, err)
	}
	replaced := mods[1]
	replaced.Files = map[string]string{"hello.go": "package hello // republished\n"}
	if err := srv.Add(replaced); err != nil {
		t.Fatal(err)
	}
	g := testenv.NewGo(t, "GOPROXY="+srv.URL, "GOSUMDB="+srv.SumDB().GOSUMDB())
	if _, errs, err := g.Run("mod", "download", "example.com/hello@v1.1.0", "example.com/hello@v1.3.0"); err == nil || !strings.Contains(errs, "example.com/hello@v1.1.0: verifying module: checksum mismatch") || strings.Contains(errs, "v1.3.0") {
		t.Errorf("go mod download: %v\n%s\nwant a checksum mismatch for v1.1.0 only", err, errs)
	}
}

func TestInvalidModules(t *testing.T) {
	for _, tc := range []struct {
		m    Module
		want string
	}{
		{Module{Path: "example.com/m", Version: "v1.0"}, "not canonical (should be v1.0.0)"},
		{Module{Path: "example.com/m", Version: "1.0.0"}, "invalid version"},
		{Module{Path: "example.com/m/v2", Version: "v1.0.0"}, "should be v2"},
		{Module{Path: "m", Version: "v1.0.0"}, "missing dot in first path element"},
		{Module{Path: "example.com/m", Version: "v1.0.0", Files: map[string]string{"../x.go": "package x"}}, "building zip for example.com/m@v1.0.0"},
	} {
		_, err := tc.m.GoSum()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.m, err, tc.want)
		}
		if err := WriteDir(t.TempDir(), tc.m); err == nil {
			t.Errorf("WriteDir(%s) succeeded", tc.m)
		}
	}
	// A hand-made zip is served as is; only its go.sum line is unavailable.
	bad := Module{Path: "example.com/m", Version: "v1.0.0", Zip: []byte("not a zip")}
	if _, err := bad.GoSum(); err == nil || !strings.Contains(err.Error(), "not a module zip") {
		t.Errorf("GoSum of a bad zip: %v", err)
	}
	srv := NewServer(bad)
	defer srv.Close()
	if _, body, err := get(srv.Client(), srv.URL+"/example.com/m/@v/v1.0.0.zip"); err != nil || string(body) != "not a zip" {
		t.Errorf("bad zip served as %q, %v", body, err)
	}
}

func TestLogString(t *testing.T) {
	log := Log{
		{Server: "a", Method: "GET", Path: "/example.com/m/@v/list", Status: 200, Bytes: 7, Done: true},
		{Server: "a", Method: "GET", Path: "/example.com/m/@v/v1.0.0.zip", Range: "bytes=5-", Fault: Cut(Half), Status: 206, Bytes: 40, Done: true},
		{Method: "GET", Path: "/example.com/m/@v/v1.0.0.mod", Fault: Reset(), Done: true},
		{Method: "HEAD", Path: "/example.com/m/@v/v1.0.0.zip", Fault: Stall(0)},
		{Method: "GET", Path: "/example.com/m/@v/v1.0.0.info", Fault: Status(503), Status: 503, Bytes: 40, Done: true},
	}
	want := `a GET /example.com/m/@v/list 200 7B
a GET /example.com/m/@v/v1.0.0.zip Range:bytes=5- cut 206 40B
GET /example.com/m/@v/v1.0.0.mod reset
HEAD /example.com/m/@v/v1.0.0.zip stall (in progress)
GET /example.com/m/@v/v1.0.0.info 503 40B
`
	if got := log.String(); got != want {
		t.Errorf("Log.String() =\n%s\nwant:\n%s", got, want)
	}
}
