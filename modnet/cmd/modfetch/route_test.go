package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// setEnv isolates the command from the machine's GOENV file and go.env.
func setEnv(t *testing.T, kv ...string) {
	t.Helper()
	t.Setenv("GOENV", "off")
	t.Setenv("GOROOT", t.TempDir())
	for _, k := range []string{"GOPROXY", "GONOPROXY", "GOPRIVATE", "GONOSUMDB", "GOSUMDB", "GOINSECURE", "GOWORK"} {
		t.Setenv(k, "")
	}
	for i := 0; i+1 < len(kv); i += 2 {
		t.Setenv(kv[i], kv[i+1])
	}
}

func runCmd(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRouteJSON(t *testing.T) {
	setEnv(t, "GOPROXY", "127.0.0.1:8080|https://b.test,direct", "GOPRIVATE", "corp.test", "GOSUMDB", "sum.golang.org", "GOINSECURE", "corp.test/insecure")
	code, stdout, stderr := runCmd("route", "-json", "x.test/m", "corp.test/insecure/m")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	type source struct{ Kind, URL, Fallback string }
	type route struct {
		Module     string
		Sources    []source
		ChecksumDB struct {
			Verify    bool
			Name, URL string
		}
		Insecure, Private bool
	}
	var got []route
	for dec.More() {
		var r route
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if len(got) != 2 {
		t.Fatalf("got %d objects, want 2:\n%s", len(got), stdout)
	}
	pub := got[0]
	if pub.Module != "x.test/m" || len(pub.Sources) != 3 ||
		pub.Sources[0] != (source{"proxy", "https://127.0.0.1:8080", "any"}) ||
		pub.Sources[1] != (source{"proxy", "https://b.test", "notfound"}) ||
		pub.Sources[2] != (source{Kind: "direct"}) {
		t.Errorf("public route = %+v", pub)
	}
	if !pub.ChecksumDB.Verify || pub.ChecksumDB.Name != "sum.golang.org" || pub.ChecksumDB.URL != "https://sum.golang.org" || pub.Private || pub.Insecure {
		t.Errorf("public route checksum/flags = %+v", pub)
	}
	priv := got[1]
	if len(priv.Sources) != 1 || priv.Sources[0].Kind != "direct" || priv.ChecksumDB.Verify || !priv.Private || !priv.Insecure {
		t.Errorf("private route = %+v", priv)
	}
	for _, key := range []string{`"module"`, `"sources"`, `"kind"`, `"url"`, `"fallback"`, `"checksumDB"`, `"verify"`, `"name"`, `"insecure"`, `"private"`} {
		if !strings.Contains(stdout, key) {
			t.Errorf("JSON lacks key %s", key)
		}
	}
}

func TestRouteText(t *testing.T) {
	setEnv(t, "GOPROXY", "https://a.test,off", "GOSUMDB", "off")
	code, stdout, _ := runCmd("route", "x.test/m")
	want := "x.test/m\n  1. proxy https://a.test (only if not found, try the next)\n  2. off\n  checksum database: not consulted: GOSUMDB=off (from environment)\n"
	if code != 0 || stdout != want {
		t.Errorf("exit %d, output:\n%s\nwant:\n%s", code, stdout, want)
	}
}

func TestRouteExitCodes(t *testing.T) {
	setEnv(t, "GOPROXY", "ftp://x.test", "GOSUMDB", "off")
	code, _, stderr := runCmd("route", "x.test/m")
	if code != 1 || !strings.Contains(stderr, "invalid proxy URL scheme (must be https, http, file): ftp://x.test") {
		t.Errorf("malformed GOPROXY: exit %d, stderr %q; want 1 with the go command's complaint", code, stderr)
	}

	setEnv(t, "GOPROXY", "direct", "GOSUMDB", "a b c")
	code, _, stderr = runCmd("route", "x.test/m")
	if code != 1 || !strings.Contains(stderr, "too many fields") {
		t.Errorf("malformed GOSUMDB: exit %d, stderr %q", code, stderr)
	}

	for _, args := range [][]string{{}, {"route"}, {"route", "-bogus", "x"}, {"nosuch"}} {
		if code, _, _ := runCmd(args...); code != 2 {
			t.Errorf("modfetch %q: exit %d, want 2", args, code)
		}
	}
}
