package modnet

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
)

// A directFixture is a fake network with a vanity host whose go-import
// tags point at two git repositories, built with fixed dates so that their
// hashes, versions and pseudo-versions are the same in every run:
//
// plain (vanity.modkit.test/plain), never a go.mod at the root:
//
//	c1 2020-01-01 v0.1.0, v1.0 (incomplete: ignored), v1.0.0-20200101000000-abcdefabcdef (pseudo-like: ignored)
//	c2 2020-02-01 v1.0.0 (annotated)
//	│└ c5 2020-05-01 branch dev
//	c3 2020-03-01 v2.0.0             → v2.0.0+incompatible
//	c4 2020-04-01 v2.1.0, v2.1.0+meta; export-subst, export-ignore, symlink,
//	              CRLF, vendor/, a nested module, a file named like a tag
//	c6 2020-06-01 main (HEAD)
//
// major (vanity.modkit.test/major...):
//
//	m1 2021-01-01 go.mod major; LICENSE; sub/go.mod major/sub   v1.0.0, sub/v0.1.0
//	m2 2021-02-01 go.mod major/v2                                v2.0.0, sub/v1.2.0
//	m3 2021-03-01 v3/go.mod major/v3; go.mod retracts v2.1.0     v2.1.0, v3.0.0
//	m4 2021-04-01 main (HEAD)
//	   └ m5 2021-05-01 branch feature
//
// untagged (vanity.modkit.test/untagged): u1 2022-01-01, u2 2022-02-01 main;
// empty (vanity.modkit.test/empty): no commits.
//
// vanity.modkit.test/subdirtag is major's sub directory, through a go-import
// tag with a subdirectory; vanity.modkit.test/full/v2 is major's root,
// through a tag naming the /v2 path itself.
type directFixture struct {
	net  *testenv.Net
	git  *gitServer
	hash map[string]string // c1..c6, m1..m5
}

const (
	fixturePlain    = "vanity.modkit.test/plain"
	fixtureMajor    = "vanity.modkit.test/major"
	fixtureUntagged = "vanity.modkit.test/untagged"
	fixtureEmpty    = "vanity.modkit.test/empty"
	// Other names for parts of major.
	fixtureSubdirTag = "vanity.modkit.test/subdirtag"
	fixtureFullV2    = "vanity.modkit.test/full/v2"
)

func newDirectFixture(t testing.TB) *directFixture {
	t.Helper()
	f := &directFixture{net: testenv.NewNet(t), git: newGitServer(t), hash: map[string]string{}}
	f.net.HandleHTTPS("vanity.modkit.test", goImportPage(
		fixturePlain+" git https://git.modkit.test/plain",
		fixtureMajor+" git https://git.modkit.test/major",
		fixtureUntagged+" git https://git.modkit.test/untagged",
		fixtureEmpty+" git https://git.modkit.test/empty",
		// The module in a subdirectory named by the tag's fourth field.
		fixtureSubdirTag+" git https://git.modkit.test/major sub",
		// A tag for the whole /v2 path: the repository root holds v2.
		fixtureFullV2+" git https://git.modkit.test/major",
	))

	p := f.git.repo("plain")
	f.hash["c1"] = p.commit("2020-01-01T00:00:00Z", map[string]string{"a.go": "package plain\n"})
	p.tag("v0.1.0", false)
	p.tag("v1.0", false)
	p.tag("v1.0.0-20200101000000-abcdefabcdef", false)
	f.hash["c2"] = p.commit("2020-02-01T00:00:00Z", map[string]string{"b.go": "package plain\n\nconst B = 1\n"})
	p.tag("v1.0.0", true)
	p.git("", "checkout", "-q", "-b", "dev")
	f.hash["c5"] = p.commit("2020-05-01T00:00:00Z", map[string]string{"dev.go": "package plain\n\nconst Dev = true\n"})
	p.git("", "checkout", "-q", "main")
	f.hash["c3"] = p.commit("2020-03-01T00:00:00Z", map[string]string{"c.go": "package plain\n\nconst C = 3\n"})
	p.tag("v2.0.0", false)
	f.hash["c4"] = p.commit("2020-04-01T00:00:00Z", map[string]string{
		".gitattributes":     "subst.txt export-subst\nignored.txt export-ignore\n",
		"subst.txt":          "commit $Format:%H$\n",
		"ignored.txt":        "kept in module zips: the go command disables export-ignore\n",
		"crlf.txt":           "one\r\ntwo\r\n",
		"link.go":            "symlink:a.go",
		"vendor/x/x.go":      "package x\n",
		"vendor/modules.txt": "# x\n",
		"nested/go.mod":      "module vanity.modkit.test/plain/nested\n",
		"nested/n.go":        "package nested\n",
		"v2.1.0":             "a file named like a tag\n",
	})
	p.tag("v2.1.0", false)
	p.tag("v2.1.0+meta", false)
	f.hash["c6"] = p.commit("2020-06-01T00:00:00Z", map[string]string{"d.go": "package plain\n\nconst D = 4\n"})

	m := f.git.repo("major")
	f.hash["m1"] = m.commit("2021-01-01T00:00:00Z", map[string]string{
		"go.mod":     "module " + fixtureMajor + "\n\ngo 1.21\n",
		"LICENSE":    "root license\n",
		"m.go":       "package major\n",
		"sub/go.mod": "module " + fixtureMajor + "/sub\n",
		"sub/s.go":   "package sub\n",
	})
	m.tag("v1.0.0", false)
	m.tag("sub/v0.1.0", false)
	f.hash["m2"] = m.commit("2021-02-01T00:00:00Z", map[string]string{
		"go.mod":   "module " + fixtureMajor + "/v2\n\ngo 1.21\n",
		"sub/s.go": "package sub\n\nconst V = 1\n",
	})
	m.tag("v2.0.0", false)
	m.tag("sub/v1.2.0", true)
	f.hash["m3"] = m.commit("2021-03-01T00:00:00Z", map[string]string{
		// A release that retracts itself: pseudo-versions of later commits
		// must not build on it.
		"go.mod":    "module " + fixtureMajor + "/v2\n\ngo 1.21\n\nretract v2.1.0 // broken\n",
		"v3/go.mod": "module " + fixtureMajor + "/v3\n\ngo 1.21\n",
		"v3/x.go":   "package major\n\nconst X = 3\n",
	})
	m.tag("v2.1.0", false)
	m.tag("v3.0.0", false)
	f.hash["m4"] = m.commit("2021-04-01T00:00:00Z", map[string]string{"m.go": "package major\n\nconst M = 4\n"})
	m.git("", "checkout", "-q", "-b", "feature")
	f.hash["m5"] = m.commit("2021-05-01T00:00:00Z", map[string]string{"sub/f.go": "package sub\n\nconst F = 5\n"})
	m.git("", "checkout", "-q", "main")

	u := f.git.repo("untagged")
	f.hash["u1"] = u.commit("2022-01-01T00:00:00Z", map[string]string{"go.mod": "module " + fixtureUntagged + "\n", "u.go": "package untagged\n"})
	f.hash["u2"] = u.commit("2022-02-01T00:00:00Z", map[string]string{"u.go": "package untagged\n\nconst U = 2\n"})
	f.git.repo("empty")
	return f
}

// env returns an Env for modkit that uses the fixture's git configuration
// and a fresh module cache, plus extra variables.
func (f *directFixture) env(t testing.TB, kv ...string) *Env {
	t.Helper()
	base := []string{"GOPROXY", "direct", "GOSUMDB", "off", "GOMODCACHE", filepath.Join(t.TempDir(), "modcache")}
	for _, e := range f.git.environ() {
		k, v, _ := strings.Cut(e, "=")
		base = append(base, k, v)
	}
	return testEnv(t, append(base, kv...)...)
}

// fakeClient returns a client of the fake network with the go command's
// redirect rule.
func fakeClient(n *testenv.Net) *http.Client {
	c := n.Client()
	c.CheckRedirect = goGetSecureClient.CheckRedirect
	return c
}

// fakeDiscoverOptions are DiscoverOptions that use the fake network.
func fakeDiscoverOptions(n *testenv.Net) DiscoverOptions {
	return DiscoverOptions{Do: fakeClient(n).Do, InsecureDo: n.InsecureClient().Do}
}

// goImportPage is a handler serving go-import meta tags on every path.
func goImportPage(tags ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("go-get") != "1" {
			http.NotFound(w, r)
			return
		}
		var b strings.Builder
		b.WriteString("<!DOCTYPE html>\n<html><head>\n")
		for _, tag := range tags {
			b.WriteString(`<meta name="go-import" content="` + tag + `">` + "\n")
		}
		b.WriteString("</head><body>go get</body></html>\n")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(b.String()))
	})
}
