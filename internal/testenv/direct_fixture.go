package testenv

import (
	"os"
	"testing"
)

// A DirectFixture is a fake network with a vanity host whose go-import
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
type DirectFixture struct {
	Net  *Net
	Git  *GitServer
	Hash map[string]string // c1..c6, m1..m5, u1, u2: the commits above
}

// The module paths of the DirectFixture.
const (
	FixturePlain    = "vanity.modkit.test/plain"
	FixtureMajor    = "vanity.modkit.test/major"
	FixtureUntagged = "vanity.modkit.test/untagged"
	FixtureEmpty    = "vanity.modkit.test/empty"
	// Other names for parts of major.
	FixtureSubdirTag = "vanity.modkit.test/subdirtag"
	FixtureFullV2    = "vanity.modkit.test/full/v2"
)

// NewDirectFixture builds the DirectFixture's repositories and serves
// them, or skips t without git.
func NewDirectFixture(t testing.TB) *DirectFixture {
	t.Helper()
	f := &DirectFixture{Net: NewNet(t), Git: NewGitServer(t), Hash: map[string]string{}}
	f.Net.HandleHTTPS("vanity.modkit.test", GoImport(
		FixturePlain+" git https://git.modkit.test/plain",
		FixtureMajor+" git https://git.modkit.test/major",
		FixtureUntagged+" git https://git.modkit.test/untagged",
		FixtureEmpty+" git https://git.modkit.test/empty",
		// The module in a subdirectory named by the tag's fourth field.
		FixtureSubdirTag+" git https://git.modkit.test/major sub",
		// A tag for the whole /v2 path: the repository root holds v2.
		FixtureFullV2+" git https://git.modkit.test/major",
	))

	p := f.Git.Repo("plain")
	f.Hash["c1"] = p.Commit("2020-01-01T00:00:00Z", map[string]string{"a.go": "package plain\n"})
	p.Tag("v0.1.0", false)
	p.Tag("v1.0", false)
	p.Tag("v1.0.0-20200101000000-abcdefabcdef", false)
	f.Hash["c2"] = p.Commit("2020-02-01T00:00:00Z", map[string]string{"b.go": "package plain\n\nconst B = 1\n"})
	p.Tag("v1.0.0", true)
	p.Git("", "checkout", "-q", "-b", "dev")
	f.Hash["c5"] = p.Commit("2020-05-01T00:00:00Z", map[string]string{"dev.go": "package plain\n\nconst Dev = true\n"})
	p.Git("", "checkout", "-q", "main")
	f.Hash["c3"] = p.Commit("2020-03-01T00:00:00Z", map[string]string{"c.go": "package plain\n\nconst C = 3\n"})
	p.Tag("v2.0.0", false)
	f.Hash["c4"] = p.Commit("2020-04-01T00:00:00Z", map[string]string{
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
	p.Tag("v2.1.0", false)
	p.Tag("v2.1.0+meta", false)
	f.Hash["c6"] = p.Commit("2020-06-01T00:00:00Z", map[string]string{"d.go": "package plain\n\nconst D = 4\n"})

	m := f.Git.Repo("major")
	f.Hash["m1"] = m.Commit("2021-01-01T00:00:00Z", map[string]string{
		"go.mod":     "module " + FixtureMajor + "\n\ngo 1.21\n",
		"LICENSE":    "root license\n",
		"m.go":       "package major\n",
		"sub/go.mod": "module " + FixtureMajor + "/sub\n",
		"sub/s.go":   "package sub\n",
	})
	m.Tag("v1.0.0", false)
	m.Tag("sub/v0.1.0", false)
	f.Hash["m2"] = m.Commit("2021-02-01T00:00:00Z", map[string]string{
		"go.mod":   "module " + FixtureMajor + "/v2\n\ngo 1.21\n",
		"sub/s.go": "package sub\n\nconst V = 1\n",
	})
	m.Tag("v2.0.0", false)
	m.Tag("sub/v1.2.0", true)
	f.Hash["m3"] = m.Commit("2021-03-01T00:00:00Z", map[string]string{
		// A release that retracts itself: pseudo-versions of later commits
		// must not build on it.
		"go.mod":    "module " + FixtureMajor + "/v2\n\ngo 1.21\n\nretract v2.1.0 // broken\n",
		"v3/go.mod": "module " + FixtureMajor + "/v3\n\ngo 1.21\n",
		"v3/x.go":   "package major\n\nconst X = 3\n",
	})
	m.Tag("v2.1.0", false)
	m.Tag("v3.0.0", false)
	f.Hash["m4"] = m.Commit("2021-04-01T00:00:00Z", map[string]string{"m.go": "package major\n\nconst M = 4\n"})
	m.Git("", "checkout", "-q", "-b", "feature")
	f.Hash["m5"] = m.Commit("2021-05-01T00:00:00Z", map[string]string{"sub/f.go": "package sub\n\nconst F = 5\n"})
	m.Git("", "checkout", "-q", "main")

	u := f.Git.Repo("untagged")
	f.Hash["u1"] = u.Commit("2022-01-01T00:00:00Z", map[string]string{"go.mod": "module " + FixtureUntagged + "\n", "u.go": "package untagged\n"})
	f.Hash["u2"] = u.Commit("2022-02-01T00:00:00Z", map[string]string{"u.go": "package untagged\n\nconst U = 2\n"})
	f.Git.Repo("empty")
	return f
}

// Environ is the environment ("KEY=value") for git and the go command that
// reaches the fixture's repositories: PATH, a HOME of its own and Git's
// configuration, with its insteadOf rules.
func (f *DirectFixture) Environ() []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + f.Git.Home}, f.Git.Env()...)
}
