package vcs

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
)

func TestParseMetaGoImports(t *testing.T) {
	git := func(prefix, repo string) MetaImport { return MetaImport{Prefix: prefix, VCS: "git", RepoRoot: repo} }
	tests := []struct {
		name      string
		html      string
		ignoreMod bool
		want      []MetaImport
		err       string
	}{
		{name: "one", html: `<meta name="go-import" content="a.com/b git https://a.com/b">`,
			want: []MetaImport{git("a.com/b", "https://a.com/b")}},
		{name: "subdir field", html: `<meta name="go-import" content="a.com/b git https://a.com/r sub/dir">`,
			want: []MetaImport{{"a.com/b", "git", "https://a.com/r", "sub/dir"}}},
		{name: "wrong field counts ignored", html: `<meta name="go-import" content="a.com/b git"><meta name="go-import" content="a b c d e"><meta name="go-import" content="x.com/y git https://x.com/y">`,
			want: []MetaImport{git("x.com/y", "https://x.com/y")}},
		{name: "case-insensitive element and attributes, not value", html: `<META NAME="go-import" CONTENT="a.com/b git https://a.com/b"><meta name="GO-IMPORT" content="c.com/d git https://c.com/d">`,
			want: []MetaImport{git("a.com/b", "https://a.com/b")}},
		{name: "white space in content", html: "<meta name=\"go-import\" content=\"  a.com/b\tgit\n https://a.com/b  \">",
			want: []MetaImport{git("a.com/b", "https://a.com/b")}},
		{name: "stops at body", html: `<head><meta name="go-import" content="a.com/b git https://a.com/b"></head><body><meta name="go-import" content="c.com/d git https://c.com/d">`,
			want: []MetaImport{git("a.com/b", "https://a.com/b")}},
		{name: "stops at end of head", html: `<meta name="go-import" content="a.com/b git https://a.com/b"></head><meta name="go-import" content="c.com/d git https://c.com/d">`,
			want: []MetaImport{git("a.com/b", "https://a.com/b")}},
		{name: "HTML that is not XML", html: `<!doctype html><title>x</title><meta name=go-import content="a.com/b git https://a.com/b"><div style=position:relative>x</div>`,
			want: []MetaImport{git("a.com/b", "https://a.com/b")}},
		{name: "syntax error after a tag is ignored", html: `<meta name="go-import" content="a.com/b git https://a.com/b"><<<`,
			want: []MetaImport{git("a.com/b", "https://a.com/b")}},
		{name: "syntax error before any tag", html: `<<<<meta name="go-import" content="a.com/b git https://a.com/b">`, err: "XML syntax error"},
		{name: "unsupported charset", html: `<?xml version="1.0" encoding="ISO-8859-1"?><meta name="go-import" content="a.com/b git https://a.com/b">`,
			err: `xml: opening charset "ISO-8859-1": can't decode XML document using charset "ISO-8859-1"`},
		{name: "ascii charset", html: `<?xml version="1.0" encoding="ASCII"?><meta name="go-import" content="a.com/b git https://a.com/b">`,
			want: []MetaImport{git("a.com/b", "https://a.com/b")}},
		{name: "mod first, hiding the same prefix", html: `<meta name="go-import" content="a.com/b git https://a.com/b"><meta name="go-import" content="a.com/b mod https://proxy.a.com"><meta name="go-import" content="c.com/d git https://c.com/d">`,
			want: []MetaImport{{"a.com/b", "mod", "https://proxy.a.com", ""}, git("c.com/d", "https://c.com/d")}},
		{name: "mod ignored", ignoreMod: true, html: `<meta name="go-import" content="a.com/b mod https://proxy.a.com"><meta name="go-import" content="a.com/b git https://a.com/b">`,
			want: []MetaImport{git("a.com/b", "https://a.com/b")}},
		{name: "empty", html: ``, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMetaGoImports(strings.NewReader(tt.html), tt.ignoreMod)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseMetaGoImports(f *testing.F) {
	for _, s := range []string{
		`<meta name="go-import" content="a.com/b git https://a.com/b">`,
		`<html><head><meta name="go-import" content="a.com/b mod https://p sub"></head><body>`,
		`<?xml version="1.0" encoding="latin1"?>`, `<meta name=go-import content=x>`, `<<<`,
	} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, html string, ignoreMod bool) {
		list, err := ParseMetaGoImports(strings.NewReader(html), ignoreMod)
		if err != nil && list != nil {
			t.Fatalf("tags and an error: %v", err)
		}
		seenNonMod := false
		for _, mi := range list {
			if mi.Prefix == "" || mi.VCS == "" || mi.RepoRoot == "" || strings.ContainsAny(mi.Prefix+mi.VCS+mi.RepoRoot+mi.SubDir, " \t\n") {
				t.Fatalf("malformed tag %+v", mi)
			}
			if mi.VCS == "mod" {
				if ignoreMod || seenNonMod {
					t.Fatalf("mod tag %+v out of place in %+v", mi, list)
				}
			} else {
				seenNonMod = true
			}
		}
		if len(list) > 0 {
			matchMetaImport(list, list[0].Prefix+"/x")
		}
	})
}

func TestMatchMetaImport(t *testing.T) {
	tags := []MetaImport{
		{"a.com/m", "mod", "https://proxy", ""},
		{"a.com/x", "git", "https://a.com/x", ""},
		{"a.com/x/y", "git", "https://a.com/y", ""},
		{"a.com/m", "git", "https://a.com/m", ""},
	}
	for _, tt := range []struct{ path, want, err string }{
		{path: "a.com/x", want: "https://a.com/x"},
		{path: "a.com/x/z", want: "https://a.com/x"},
		{path: "a.com/xx", err: "meta tag a.com/m did not match import path a.com/xx, meta tag a.com/x did not match import path a.com/xx, meta tag a.com/x/y did not match import path a.com/xx, meta tag a.com/m did not match import path a.com/xx"},
		{path: "a.com/x/y/z", err: `multiple meta tags match import path "a.com/x/y/z"`},
		{path: "a.com/m/p", want: "https://proxy"}, // mod tags come first and win
	} {
		mi, err := matchMetaImport(tags, tt.path)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%s: error %v, want %s", tt.path, err, tt.err)
			}
			continue
		}
		if err != nil || mi.RepoRoot != tt.want {
			t.Errorf("%s: %+v, %v; want %s", tt.path, mi, err, tt.want)
		}
	}
}

func TestResolveImportPathStatic(t *testing.T) {
	allowAll := func(string, string) error { return nil }
	tests := []struct {
		path     string
		allowAll bool
		want     RepoRoot
		err      string
	}{
		{path: "github.com/user/repo", want: RepoRoot{Root: "github.com/user/repo", Repo: "https://github.com/user/repo", VCS: "git"}},
		{path: "github.com/user/repo/sub/pkg", want: RepoRoot{Root: "github.com/user/repo", Repo: "https://github.com/user/repo", VCS: "git"}},
		{path: "github.com/user", err: `invalid github.com import path "github.com/user"`},
		{path: "github.com/user/repo.git", err: "invalid version control suffix in github.com/ path"},
		{path: "github.com/user/re po", err: `invalid github.com import path "github.com/user/re po"`},
		{path: "bitbucket.org/user/repo/x", want: RepoRoot{Root: "bitbucket.org/user/repo", Repo: "https://bitbucket.org/user/repo", VCS: "git"}},
		{path: "hub.jazz.net/git/user/project/x", want: RepoRoot{Root: "hub.jazz.net/git/user/project", Repo: "https://hub.jazz.net/git/user/project", VCS: "git"}},
		{path: "hub.jazz.net/git/User/project", err: `invalid hub.jazz.net/git import path "hub.jazz.net/git/User/project"`},
		{path: "git.apache.org/thrift.git/lib/go", want: RepoRoot{Root: "git.apache.org/thrift.git", Repo: "https://git.apache.org/thrift.git", VCS: "git"}},
		{path: "git.openstack.org/openstack/swift/x", want: RepoRoot{Root: "git.openstack.org/openstack/swift", Repo: "https://git.openstack.org/openstack/swift", VCS: "git"}},
		// The optional .git is swallowed by the greedy name, as in the go command.
		{path: "git.openstack.org/openstack/swift.git/x", want: RepoRoot{Root: "git.openstack.org/openstack/swift.git", Repo: "https://git.openstack.org/openstack/swift.git", VCS: "git"}},
		{path: "chiselapp.com/user/kyle/repository/fossilgg", err: "GOVCS disallows using fossil for public chiselapp.com/user/kyle/repository/fossilgg; see 'go help vcs'"},
		{path: "chiselapp.com/user/kyle/repository/fossilgg", allowAll: true, want: RepoRoot{Root: "chiselapp.com/user/kyle/repository/fossilgg", Repo: "https://chiselapp.com/user/kyle/repository/fossilgg", VCS: "fossil"}},
		// Fossil has no probe: the first secure scheme is taken.
		{path: "code.modkit.test/r.fossil/x", allowAll: true, want: RepoRoot{Root: "code.modkit.test/r.fossil", Repo: "https://code.modkit.test/r", VCS: "fossil"}},
		{path: "code.modkit.test/r.svn", err: "GOVCS disallows using svn for public code.modkit.test/r.svn; see 'go help vcs'"},
		{path: "https:/github.com/user/repo", err: `"https://" not allowed in import path`},
		{path: "example.net/x", err: "no modules on example.net"},
		{path: "rsc.io", err: "rsc.io is not a module"},
		{path: "localhost/x", err: `unrecognized import path "localhost/x": import path does not begin with hostname`},
		{path: "github.com/user/...", err: `cannot expand ... in "github.com/user/..."`},
	}
	for _, tt := range tests {
		opts := DiscoverOptions{Do: func(r *http.Request) (*http.Response, error) {
			t.Fatalf("%s: unexpected request %s", tt.path, r.URL)
			return nil, nil
		}}
		if tt.allowAll {
			opts.CheckVCS = allowAll
		}
		rr, err := ResolveImportPath(context.Background(), tt.path, opts)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%s: error %v, want %q", tt.path, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.path, err)
			continue
		}
		if *rr != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.path, *rr, tt.want)
		}
	}
}

// TestResolveImportPathSuffixProbe resolves ".git"-style paths, whose URL
// scheme git itself probes with 'git ls-remote', through insteadOf rules
// to the test's git server (or to a closed port).
func TestResolveImportPathSuffixProbe(t *testing.T) {
	s := testenv.NewGitServer(t)
	s.Repo("plain").Commit("2020-01-01T00:00:00Z", map[string]string{"a.go": "package a\n"})
	cfg := writeFile(t, filepath.Join(t.TempDir(), "gitconfig"),
		"[url \""+s.URL+"/\"]\n\tinsteadOf = https://vcs.modkit.test/\n\tinsteadOf = git://vcs.modkit.test/\n"+
			"[url \"http://127.0.0.1:1/\"]\n\tinsteadOf = https://down.modkit.test/\n\tinsteadOf = ssh://down.modkit.test/\n\tinsteadOf = git+ssh://down.modkit.test/\n")
	environ := append(append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + s.Home}, s.Env()...), "GIT_CONFIG_GLOBAL="+cfg)
	for _, tt := range []struct {
		path, want, err string
		insecure        bool
		extraEnv        string
	}{
		{path: "vcs.modkit.test/plain.git/sub", want: "https://vcs.modkit.test/plain"},
		{path: "vcs.modkit.test/plain.git", insecure: true, want: "git://vcs.modkit.test/plain"},
		// GIT_ALLOW_PROTOCOL lists the secure schemes (http for the insteadOf target).
		{path: "vcs.modkit.test/plain.git", extraEnv: "GIT_ALLOW_PROTOCOL=git:http", want: "git://vcs.modkit.test/plain"},
		{path: "down.modkit.test/plain.git", err: "no secure protocol found for repository"},
	} {
		env := environ
		if tt.extraEnv != "" {
			env = append(env, tt.extraEnv)
		}
		rr, err := ResolveImportPath(context.Background(), tt.path, DiscoverOptions{Insecure: tt.insecure, Environ: env, WorkDir: t.TempDir()})
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%s: error %v, want %q", tt.path, err, tt.err)
			}
			continue
		}
		if err != nil || rr.Repo != tt.want || rr.VCS != "git" || rr.IsCustom {
			t.Errorf("%s: %+v, %v; want repo %s", tt.path, rr, err, tt.want)
		}
	}
}

func TestResolveImportPathDynamic(t *testing.T) {
	n := testenv.NewNet(t)
	page := func(host string, byPath map[string][]string) {
		n.HandleHTTPS(host, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tags, ok := byPath[r.URL.Path]
			if !ok {
				http.NotFound(w, r)
				return
			}
			testenv.GoImport(tags...).ServeHTTP(w, r)
		}))
	}
	page("meta.modkit.test", map[string][]string{
		"/a":            {"meta.modkit.test/a git https://git.modkit.test/a"},
		"/a/b/c":        {"meta.modkit.test/a git https://git.modkit.test/a", "other.modkit.test/z git https://z"},
		"/sub":          {"meta.modkit.test/sub git https://git.modkit.test/big tools/sub"},
		"/mod":          {"meta.modkit.test/mod git https://git.modkit.test/mod", "meta.modkit.test/mod mod https://proxy.modkit.test/"},
		"/disagree":     {"meta.modkit.test/disagree git https://git.modkit.test/two"},
		"/disagree/x":   {"meta.modkit.test/disagree git https://git.modkit.test/one"},
		"/multi/x/y":    {"meta.modkit.test/multi git https://a", "meta.modkit.test/multi/x git https://b"},
		"/none":         {"other.modkit.test/y git https://y"},
		"/empty":        {},
		"/slash":        {"meta.modkit.test/slash git https://r /abs"},
		"/hyphen":       {"meta.modkit.test/hyphen git https://r -flag"},
		"/noscheme":     {"meta.modkit.test/noscheme git git.modkit.test/r"},
		"/file":         {"meta.modkit.test/file git file:///tmp/r"},
		"/cvs":          {"meta.modkit.test/cvs cvs https://r"},
		"/svn":          {"meta.modkit.test/svn svn https://svn.modkit.test/r"},
		"/unverified/x": {"meta.modkit.test/unverified git https://r"},
	})
	n.HandleHTTPS("notfound.modkit.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/tags":
			w.WriteHeader(http.StatusNotFound) // a go-import tag in a 404 page is fine
			testenv.GoImport("notfound.modkit.test/tags git https://r").ServeHTTP(w, r)
		case "/text":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte("no such repository\nask the admins\n\nnot shown\n"))
		default:
			w.WriteHeader(http.StatusGone)
		}
	}))
	n.HandleHTTP("plain.modkit.test", testenv.GoImport("plain.modkit.test/r git https://git.modkit.test/r"))
	n.HandleHTTPS("redirect.modkit.test", http.RedirectHandler("http://plain.modkit.test/r?go-get=1", http.StatusFound))

	type result struct {
		rr  RepoRoot
		err string
	}
	tests := []struct {
		name string
		path string
		opts func(*DiscoverOptions)
		want result
	}{
		{"exact", "meta.modkit.test/a", nil, result{rr: RepoRoot{Root: "meta.modkit.test/a", Repo: "https://git.modkit.test/a", VCS: "git", IsCustom: true}}},
		{"prefix verified", "meta.modkit.test/a/b/c", nil, result{rr: RepoRoot{Root: "meta.modkit.test/a", Repo: "https://git.modkit.test/a", VCS: "git", IsCustom: true}}},
		{"subdirectory", "meta.modkit.test/sub", nil, result{rr: RepoRoot{Root: "meta.modkit.test/sub", Repo: "https://git.modkit.test/big", VCS: "git", SubDir: "tools/sub", IsCustom: true}}},
		{"mod preferred", "meta.modkit.test/mod", nil, result{rr: RepoRoot{Root: "meta.modkit.test/mod", Repo: "https://proxy.modkit.test/", VCS: "mod", IsCustom: true}}},
		{"mod ignored", "meta.modkit.test/mod", func(o *DiscoverOptions) { o.IgnoreMod = true }, result{rr: RepoRoot{Root: "meta.modkit.test/mod", Repo: "https://git.modkit.test/mod", VCS: "git", IsCustom: true}}},
		{"disagree", "meta.modkit.test/disagree/x", nil, result{err: `unrecognized import path "meta.modkit.test/disagree/x": https://meta.modkit.test/disagree/x?go-get=1 and //meta.modkit.test/disagree?go-get=1 disagree about go-import for meta.modkit.test/disagree`}},
		{"prefix page missing", "meta.modkit.test/unverified/x", nil, result{err: "unrecognized import path \"meta.modkit.test/unverified/x\": reading https://meta.modkit.test/unverified?go-get=1: 404 Not Found\n\tserver response: 404 page not found"}},
		{"multiple", "meta.modkit.test/multi/x/y", nil, result{err: `unrecognized import path "meta.modkit.test/multi/x/y": parse //meta.modkit.test/multi/x/y?go-get=1: multiple meta tags match import path "meta.modkit.test/multi/x/y"`}},
		{"no match", "meta.modkit.test/none", nil, result{err: `unrecognized import path "meta.modkit.test/none": parse https://meta.modkit.test/none?go-get=1: no go-import meta tags (meta tag other.modkit.test/y did not match import path meta.modkit.test/none)`}},
		{"no tags", "meta.modkit.test/empty", nil, result{err: `unrecognized import path "meta.modkit.test/empty": parse https://meta.modkit.test/empty?go-get=1: no go-import meta tags ()`}},
		{"subdir slash", "meta.modkit.test/slash", nil, result{err: `unrecognized import path "meta.modkit.test/slash": https://meta.modkit.test/slash?go-get=1: invalid subdirectory "/abs": leading slash`}},
		{"subdir hyphen", "meta.modkit.test/hyphen", nil, result{err: `unrecognized import path "meta.modkit.test/hyphen": https://meta.modkit.test/hyphen?go-get=1: invalid subdirectory "-flag": leading hyphen`}},
		{"no scheme", "meta.modkit.test/noscheme", nil, result{err: `unrecognized import path "meta.modkit.test/noscheme": https://meta.modkit.test/noscheme?go-get=1: invalid repo root "git.modkit.test/r": no scheme`}},
		{"file scheme", "meta.modkit.test/file", nil, result{err: `unrecognized import path "meta.modkit.test/file": https://meta.modkit.test/file?go-get=1: invalid repo root "file:///tmp/r": file scheme disallowed`}},
		{"unknown vcs", "meta.modkit.test/cvs", nil, result{err: `unrecognized import path "meta.modkit.test/cvs": https://meta.modkit.test/cvs?go-get=1: unknown vcs "cvs"`}},
		{"GOVCS", "meta.modkit.test/svn", nil, result{err: `unrecognized import path "meta.modkit.test/svn": GOVCS disallows using svn for public meta.modkit.test/svn; see 'go help vcs'`}},
		{"GOVCS private", "meta.modkit.test/svn", func(o *DiscoverOptions) {
			// Private, as GOPRIVATE=meta.modkit.test makes it (modnet's Env.CheckVCS).
			o.CheckVCS = func(vcs, root string) error { return (*VCSPolicy)(nil).Check(vcs, root, true) }
		}, result{rr: RepoRoot{Root: "meta.modkit.test/svn", Repo: "https://svn.modkit.test/r", VCS: "svn", IsCustom: true}}},
		{"tags in 404 page", "notfound.modkit.test/tags", nil, result{rr: RepoRoot{Root: "notfound.modkit.test/tags", Repo: "https://r", VCS: "git", IsCustom: true}}},
		{"404 with explanation", "notfound.modkit.test/text", nil, result{err: "unrecognized import path \"notfound.modkit.test/text\": reading https://notfound.modkit.test/text?go-get=1: 404 Not Found\n\tserver response:\n\tno such repository\n\task the admins"}},
		{"410", "notfound.modkit.test/gone", nil, result{err: `unrecognized import path "notfound.modkit.test/gone": reading https://notfound.modkit.test/gone?go-get=1: 410 Gone`}},
		{"http only", "plain.modkit.test/r", nil, result{err: `unrecognized import path "plain.modkit.test/r": https fetch: Get "https://plain.modkit.test/r?go-get=1": Bad Gateway`}},
		{"http only, insecure", "plain.modkit.test/r", func(o *DiscoverOptions) { o.Insecure = true }, result{rr: RepoRoot{Root: "plain.modkit.test/r", Repo: "https://git.modkit.test/r", VCS: "git", IsCustom: true}}},
		{"no host at all, insecure", "nohost.modkit.test/r", func(o *DiscoverOptions) { o.Insecure = true }, result{err: "unrecognized import path \"nohost.modkit.test/r\": reading http://nohost.modkit.test/r?go-get=1: 502 Bad Gateway\n\tserver response: no http server for nohost.modkit.test"}},
		{"insecure, both schemes fail", "plain.modkit.test/r", func(o *DiscoverOptions) {
			o.Insecure = true
			o.Do = func(r *http.Request) (*http.Response, error) {
				return nil, &url.Error{Op: "Get", URL: r.URL.String(), Err: errors.New("connection refused")}
			}
			o.InsecureDo = o.Do
		}, result{err: `unrecognized import path "plain.modkit.test/r": http/https fetch: Get "http://plain.modkit.test/r?go-get=1": connection refused`}},
		{"redirect to http", "redirect.modkit.test/r", nil, result{err: `unrecognized import path "redirect.modkit.test/r": https fetch: Get "http://plain.modkit.test/r?go-get=1": redirected from secure URL https://redirect.modkit.test/r?go-get=1 to insecure URL http://plain.modkit.test/r?go-get=1`}},
		{"redirect to http, any client", "redirect.modkit.test/r", func(o *DiscoverOptions) {
			c := n.Client()
			c.CheckRedirect = nil // follows everything: the response is refused after the fact
			o.Do = c.Do
		}, result{err: `unrecognized import path "redirect.modkit.test/r": https fetch: Get "http://plain.modkit.test/r?go-get=1": redirected from secure URL https://redirect.modkit.test/r?go-get=1 to insecure URL http://plain.modkit.test/r?go-get=1`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := fakeDiscoverOptions(n)
			if tt.opts != nil {
				tt.opts(&opts)
			}
			rr, err := ResolveImportPath(context.Background(), tt.path, opts)
			if tt.want.err != "" {
				if err == nil || err.Error() != tt.want.err {
					t.Fatalf("error:\n\t%v\nwant:\n\t%s", err, tt.want.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *rr != tt.want.rr {
				t.Errorf("got %+v\nwant %+v", *rr, tt.want.rr)
			}
		})
	}

	// Not-found pages stay recognisable for callers deciding on fallback.
	_, err := ResolveImportPath(context.Background(), "notfound.modkit.test/gone", fakeDiscoverOptions(n))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("410 answer does not match fs.ErrNotExist: %v", err)
	}
}

// TestResolveImportPathLaunchpad checks the launchpad.net rule, consulted
// only after dynamic discovery fails: a series branch that Launchpad does
// not know makes the project the root.
func TestResolveImportPathLaunchpad(t *testing.T) {
	n := testenv.NewNet(t)
	n.HandleHTTPS("code.launchpad.net", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/proj/series/.bzr/branch-format" {
			w.Write([]byte("Bazaar-NG meta directory, format 1\n"))
			return
		}
		http.NotFound(w, r)
	}))
	opts := fakeDiscoverOptions(n)
	opts.CheckVCS = func(string, string) error { return nil }
	for path, root := range map[string]string{
		"launchpad.net/proj/series/pkg":     "launchpad.net/proj/series",
		"launchpad.net/proj/dir/pkg":        "launchpad.net/proj",
		"launchpad.net/~user/proj/branch/x": "launchpad.net/~user/proj/branch",
	} {
		rr, err := ResolveImportPath(context.Background(), path, opts)
		if err != nil || rr.Root != root || rr.VCS != "bzr" || rr.Repo != "https://"+root {
			t.Errorf("%s: %+v, %v; want root %s", path, rr, err, root)
		}
	}
	// With the default GOVCS, bzr is not allowed for public code: the
	// dynamic lookup's error stands.
	_, err := ResolveImportPath(context.Background(), "launchpad.net/proj/series", fakeDiscoverOptions(n))
	if err == nil || !strings.HasPrefix(err.Error(), `unrecognized import path "launchpad.net/proj/series": https fetch:`) {
		t.Errorf("default GOVCS: %v", err)
	}
}

// fakeDiscoverOptions are DiscoverOptions that use the fake network.
func fakeDiscoverOptions(n *testenv.Net) DiscoverOptions {
	return DiscoverOptions{Do: n.Client().Do, InsecureDo: n.InsecureClient().Do}
}

// writeFile writes content to name and returns name.
func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o666); err != nil {
		t.Fatal(err)
	}
	return name
}
