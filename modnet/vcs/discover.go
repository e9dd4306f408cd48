package vcs

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"

	"github.com/modkit/modkit/modnet/internal/codehost"
)

// A RepoRoot says where the code for an import path lives: the answer of
// the go command's repository discovery (cmd/go/internal/vcs.RepoRoot).
type RepoRoot struct {
	// Root is the import path that corresponds to the root of the
	// repository (or to SubDir within it), such as "github.com/user/repo".
	Root string
	// Repo is the repository URL, with scheme. For VCS "mod" it is the base
	// URL of a module proxy serving the modules under Root.
	Repo string
	// VCS is the version control command: "git", "hg", "svn", "bzr",
	// "fossil", or "mod" for a module proxy named by a go-import tag.
	VCS string
	// SubDir is the directory within the repository that Root corresponds
	// to: the optional fourth field of a go-import tag. Empty for the root.
	SubDir string
	// IsCustom reports that a go-import meta tag served by the import path's
	// host gave the answer, rather than the go command's built-in rules for
	// well-known hosts and ".git"-style path suffixes.
	IsCustom bool
}

// DiscoverOptions configure [ResolveImportPath]. The zero value discovers
// like the go command in module mode with GOINSECURE unset, GOVCS at its
// default, and nothing private.
type DiscoverOptions struct {
	// Insecure is the GOINSECURE decision for the import path. When set, an
	// https page is fetched without checking the certificate and, if that
	// fails, the page is fetched again over plain http; a static
	// ".git"-style path may use insecure schemes such as git://.
	Insecure bool

	// IgnoreMod ignores go-import tags with the "mod" VCS, as the go
	// command does in GOPATH mode. By default they take precedence over
	// tags for the same prefix (module mode).
	IgnoreMod bool

	// Do sends a request and returns its response, following redirects.
	// It is the place for retries and credentials: the go command adds
	// GOAUTH credentials to https discovery requests and asks again with
	// fresh ones after a 4xx answer. A redirect from https to http is
	// refused: the default client does not follow it, and a response from
	// another Do that ended on http after starting on https is discarded
	// with the same error. Nil means a client like http.DefaultClient with
	// that redirect rule.
	Do func(*http.Request) (*http.Response, error)

	// InsecureDo sends the https request when Insecure is set. Nil means
	// the go command's choice: a client that skips certificate
	// verification and gives up after 5 seconds, so that the http fallback
	// is reached quickly (cmd/go/internal/web.impatientInsecureHTTPClient).
	InsecureDo func(*http.Request) (*http.Response, error)

	// CheckVCS returns an error if a version control system must not be
	// used for a repository root. Nil applies the default GOVCS rules
	// (private:all,public:git|hg) with every root public; modnet's
	// Env.CheckVCS applies GOVCS and GOPRIVATE.
	CheckVCS func(vcs, root string) error

	// Environ is the environment for version control commands run to probe
	// a ".git"-style path's URL scheme, and where GIT_ALLOW_PROTOCOL is
	// read. Nil means the process environment.
	Environ []string

	// WorkDir is where those commands run. Empty means os.TempDir().
	WorkDir string
}

// ResolveImportPath finds the repository holding an import path, as
// 'go get' does (cmd/go/internal/vcs.RepoRootForImportPath in module mode):
//
//  1. built-in rules for well-known hosts (github.com, bitbucket.org,
//     hub.jazz.net, git.apache.org, git.openstack.org, chiselapp.com) and
//     for paths with a VCS suffix such as example.com/repo.git/pkg;
//  2. otherwise, the go-import meta tags on https://<path>?go-get=1
//     (with Insecure, falling back to http), verified against the page of
//     the declared prefix when that is shorter than the path;
//  3. if that fails, built-in rules for launchpad.net.
//
// The version control system found must pass CheckVCS (GOVCS). Errors use
// the go command's wording, such as
//
//	unrecognized import path "example.com/x": https fetch: Get "https://example.com/x?go-get=1": ...
//
// ResolveImportPath performs no caching: call it once per path and keep
// the answer. It does not contact the repository itself, except to probe
// the URL scheme of a ".git"-style path, which it does by running the VCS
// command, as the go command does.
func ResolveImportPath(ctx context.Context, importPath string, opts DiscoverOptions) (*RepoRoot, error) {
	rr, err := goGetStatic(ctx, importPath, &opts, vcsStaticPaths)
	if err == errGoGetDynamic {
		rr, err = goGetDynamic(ctx, importPath, &opts)
		if err != nil {
			err = fmt.Errorf("unrecognized import path %q: %w", importPath, err)
		}
	}
	if err != nil {
		// Launchpad is consulted last so that it can move to go-import tags
		// (cmd/go/internal/vcs.vcsPathsAfterDynamic).
		if rr1, err1 := goGetStatic(ctx, importPath, &opts, vcsStaticPathsAfterDynamic); err1 == nil {
			rr, err = rr1, nil
		}
	}
	if err == nil && strings.Contains(importPath, "...") && strings.Contains(rr.Root, "...") {
		return nil, fmt.Errorf("cannot expand ... in %q", importPath)
	}
	return rr, err
}

func (o *DiscoverOptions) checkVCS(vcs, root string) error {
	if o.CheckVCS != nil {
		return o.CheckVCS(vcs, root)
	}
	var p *VCSPolicy
	return p.Check(vcs, root, false)
}

func (o *DiscoverOptions) environ() []string {
	if o.Environ != nil {
		return o.Environ
	}
	return os.Environ()
}

func (o *DiscoverOptions) getenv(name string) string {
	env := o.environ()
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == name {
			return v
		}
	}
	return ""
}

// A goGetVCS describes a version control system as far as discovery needs
// it (cmd/go/internal/vcs.Cmd): the URL schemes to try, in order, for a
// ".git"-style path, and the command that checks one works.
type goGetVCS struct {
	cmd     string
	schemes []string
	ping    []string // arguments; "{url}" is replaced; nil: take the first allowed scheme
	env     []string
}

var goGetVCSList = []*goGetVCS{
	// HGPLAIN keeps user configuration from changing hg's output.
	{cmd: "hg", schemes: []string{"https", "http", "ssh"}, ping: []string{"identify", "--", "{url}"}, env: []string{"HGPLAIN=+strictflags"}},
	// No "--" for git ls-remote: old gits reject it (go.dev/issue/33836),
	// and the URL is built from a fixed list of schemes.
	{cmd: "git", schemes: []string{"git", "https", "http", "git+ssh", "ssh"}, ping: []string{"ls-remote", "{url}"}},
	{cmd: "svn", schemes: []string{"https", "http", "svn", "svn+ssh"}, ping: []string{"info", "--", "{url}"}},
	{cmd: "bzr", schemes: []string{"https", "http", "bzr", "bzr+ssh"}, ping: []string{"info", "--", "{url}"}},
	{cmd: "fossil", schemes: []string{"https", "http"}},
}

func goGetVCSByCmd(cmd string) *goGetVCS {
	for _, v := range goGetVCSList {
		if v.cmd == cmd {
			return v
		}
	}
	return nil
}

// goGetSecureSchemes are the schemes that authenticate the server
// (cmd/go/internal/vcs.defaultSecureScheme).
var goGetSecureSchemes = map[string]bool{"https": true, "git+ssh": true, "bzr+ssh": true, "svn+ssh": true, "ssh": true}

// secureScheme reports whether scheme is secure for v. For git,
// GIT_ALLOW_PROTOCOL, when set, is the complete list of allowed schemes.
func (v *goGetVCS) secureScheme(scheme string, opts *DiscoverOptions) bool {
	if v.cmd == "git" {
		if allow := opts.getenv("GIT_ALLOW_PROTOCOL"); allow != "" {
			for _, s := range strings.Split(allow, ":") {
				if s == scheme {
					return true
				}
			}
			return false
		}
	}
	return goGetSecureSchemes[scheme]
}

// A goGetStaticPath maps import paths on a known host, or with a VCS
// suffix, to a repository without any network access
// (cmd/go/internal/vcs.vcsPath).
type goGetStaticPath struct {
	prefix     string         // import path prefix the rule owns; "" for the suffix rule
	re         *regexp.Regexp // named groups: root, and optionally repo and vcs
	vcs        string         // empty: the "vcs" group
	repo       string         // template over the groups, such as "https://{root}"; empty: the "repo" group, without scheme
	check      func(ctx context.Context, m map[string]string, opts *DiscoverOptions) error
	schemeless bool // the repo has no scheme: probe for one
}

// vcsStaticPaths is the go command's table (cmd/go/internal/vcs.vcsPaths).
// The regular expressions must stay identical to the go command's: they
// decide what is an import path on these hosts.
var vcsStaticPaths = []*goGetStaticPath{
	{
		prefix: "github.com",
		re:     regexp.MustCompile(`^(?P<root>github\.com/[\w.\-]+/[\w.\-]+)(/[\w.\-]+)*$`),
		vcs:    "git", repo: "https://{root}", check: goGetNoVCSSuffix,
	},
	{
		prefix: "bitbucket.org",
		re:     regexp.MustCompile(`^(?P<root>bitbucket\.org/(?P<bitname>[\w.\-]+/[\w.\-]+))(/[\w.\-]+)*$`),
		vcs:    "git", repo: "https://{root}", check: goGetNoVCSSuffix,
	},
	{
		prefix: "hub.jazz.net/git",
		re:     regexp.MustCompile(`^(?P<root>hub\.jazz\.net/git/[a-z0-9]+/[\w.\-]+)(/[\w.\-]+)*$`),
		vcs:    "git", repo: "https://{root}", check: goGetNoVCSSuffix,
	},
	{
		prefix: "git.apache.org",
		re:     regexp.MustCompile(`^(?P<root>git\.apache\.org/[a-z0-9_.\-]+\.git)(/[\w.\-]+)*$`),
		vcs:    "git", repo: "https://{root}",
	},
	{
		prefix: "git.openstack.org",
		re:     regexp.MustCompile(`^(?P<root>git\.openstack\.org/[\w.\-]+/[\w.\-]+)(\.git)?(/[\w.\-]+)*$`),
		vcs:    "git", repo: "https://{root}",
	},
	{
		prefix: "chiselapp.com",
		re:     regexp.MustCompile(`^(?P<root>chiselapp\.com/user/[A-Za-z0-9]+/repository/[\w.\-]+)$`),
		vcs:    "fossil", repo: "https://{root}",
	},
	{
		// Any host: a path element ending in a VCS name marks the root.
		// Deliberately unanchored at the start, as in the go command.
		re:         regexp.MustCompile(`(?P<root>(?P<repo>([a-z0-9.\-]+\.)+[a-z0-9.\-]+(:[0-9]+)?(/~?[\w.\-]+)+?)\.(?P<vcs>bzr|fossil|git|hg|svn))(/~?[\w.\-]+)*$`),
		schemeless: true,
	},
}

// vcsStaticPathsAfterDynamic are tried when go-import discovery fails
// (cmd/go/internal/vcs.vcsPathsAfterDynamic), so that launchpad.net could
// move to meta tags (go.dev/issue/11436).
var vcsStaticPathsAfterDynamic = []*goGetStaticPath{
	{
		prefix: "launchpad.net",
		re:     regexp.MustCompile(`^(?P<root>launchpad\.net/((?P<project>[\w.\-]+)(?P<series>/[\w.\-]+)?|~[\w.\-]+/(\+junk|[\w.\-]+)/[\w.\-]+))(/[\w.\-]+)*$`),
		vcs:    "bzr", repo: "https://{root}", check: goGetLaunchpad,
	},
}

// goGetNoVCSSuffix rejects a repository named like "repo.git" on hosts
// whose paths never carry the suffix (cmd/go/internal/vcs.noVCSSuffix).
func goGetNoVCSSuffix(_ context.Context, m map[string]string, _ *DiscoverOptions) error {
	for _, v := range goGetVCSList {
		if strings.HasSuffix(m["repo"], "."+v.cmd) {
			return fmt.Errorf("invalid version control suffix in %s path", m["prefix"])
		}
	}
	return nil
}

// goGetLaunchpad decides whether launchpad.net/project/x names the branch
// of series x or directory x of the project's main branch, by asking
// Launchpad whether the series branch exists
// (cmd/go/internal/vcs.launchpadVCS).
func goGetLaunchpad(ctx context.Context, m map[string]string, opts *DiscoverOptions) error {
	if m["project"] == "" || m["series"] == "" {
		return nil
	}
	u := &url.URL{Scheme: "https", Host: "code.launchpad.net", Path: "/" + m["project"] + m["series"] + "/.bzr/branch-format"}
	resp, err := goGetFetch(ctx, u, opts, false)
	if err == nil {
		resp.body.Close()
		if resp.status != http.StatusOK {
			err = errors.New(resp.statusLine)
		}
	}
	if err != nil {
		m["root"] = "launchpad.net/" + m["project"]
		m["repo"] = "https://" + m["root"]
	}
	return nil
}

// errGoGetDynamic says no static rule applies: ask the host.
var errGoGetDynamic = errors.New("dynamic lookup required to find mapping")

func expandGoGet(m map[string]string, s string) string {
	var pairs []string
	for k, v := range m {
		pairs = append(pairs, "{"+k+"}", v)
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// goGetStatic applies a static table (cmd/go/internal/vcs.repoRootFromVCSPaths).
func goGetStatic(ctx context.Context, importPath string, opts *DiscoverOptions, table []*goGetStaticPath) (*RepoRoot, error) {
	// The go command's own test hooks leak into its behaviour: it never
	// looks up example.net paths or the bare path rsc.io. Match it.
	if pathHasPrefix(importPath, "example.net") {
		return nil, errors.New("no modules on example.net")
	}
	if importPath == "rsc.io" {
		return nil, errors.New("rsc.io is not a module")
	}
	for _, p := range []string{"http:", "https:"} {
		if strings.HasPrefix(importPath, p) {
			// A URL pasted as an import path has lost one slash to cleaning.
			return nil, fmt.Errorf("%q not allowed in import path", p+"//")
		}
	}
	for _, sp := range table {
		if !pathHasPrefix(importPath, sp.prefix) {
			continue
		}
		sub := sp.re.FindStringSubmatch(importPath)
		if sub == nil {
			if sp.prefix != "" {
				return nil, fmt.Errorf("invalid %s import path %q", sp.prefix, importPath)
			}
			continue
		}
		m := map[string]string{"prefix": sp.prefix + "/", "import": importPath}
		for i, name := range sp.re.SubexpNames() {
			if name != "" && m[name] == "" {
				m[name] = sub[i]
			}
		}
		if sp.vcs != "" {
			m["vcs"] = expandGoGet(m, sp.vcs)
		}
		if sp.repo != "" {
			m["repo"] = expandGoGet(m, sp.repo)
		}
		if sp.check != nil {
			if err := sp.check(ctx, m, opts); err != nil {
				return nil, err
			}
		}
		v := goGetVCSByCmd(m["vcs"])
		if v == nil {
			return nil, fmt.Errorf("unknown version control system %q", m["vcs"])
		}
		if err := opts.checkVCS(v.cmd, m["root"]); err != nil {
			return nil, err
		}
		repoURL := m["repo"]
		if sp.schemeless {
			scheme, err := goGetProbeScheme(ctx, v, m["repo"], opts)
			if err != nil {
				return nil, err
			}
			repoURL = scheme + "://" + m["repo"]
		}
		return &RepoRoot{Root: m["root"], Repo: repoURL, VCS: v.cmd}, nil
	}
	return nil, errGoGetDynamic
}

// goGetProbeScheme picks the first of the VCS's schemes that the security
// mode allows and, for systems with a ping command, that answers.
func goGetProbeScheme(ctx context.Context, v *goGetVCS, repo string, opts *DiscoverOptions) (string, error) {
	for _, s := range v.schemes {
		if !opts.Insecure && !v.secureScheme(s, opts) {
			continue
		}
		if v.ping == nil {
			return s, nil
		}
		args := make([]string, len(v.ping))
		for i, a := range v.ping {
			args[i] = strings.ReplaceAll(a, "{url}", s+"://"+repo)
		}
		cmd := exec.CommandContext(ctx, v.cmd, args...)
		// Not the caller's directory: its repository must not influence the probe.
		cmd.Dir = opts.WorkDir
		if cmd.Dir == "" {
			cmd.Dir = os.TempDir()
		}
		cmd.Env = append(codehost.Environ(opts.environ()), v.env...)
		if cmd.Run() == nil {
			return s, nil
		}
	}
	if !opts.Insecure {
		return "", errors.New("no secure protocol found for repository")
	}
	return "", errors.New("no protocol found for repository")
}

// pathHasPrefix reports whether import path s is prefix or begins with
// prefix followed by a slash (cmd/go/internal/str.HasPathPrefix).
func pathHasPrefix(s, prefix string) bool {
	switch {
	case len(s) == len(prefix):
		return s == prefix
	case prefix == "":
		return true
	case len(s) > len(prefix):
		return s[:len(prefix)] == prefix && (prefix[len(prefix)-1] == '/' || s[len(prefix)] == '/')
	}
	return false
}

// goGetURL is the discovery page of an import path, without a scheme
// (cmd/go/internal/vcs.urlForImportPath): the fetch picks it.
func goGetURL(importPath string) (*url.URL, error) {
	host, path, _ := strings.Cut(importPath, "/")
	if !strings.Contains(host, ".") {
		return nil, errors.New("import path does not begin with hostname")
	}
	return &url.URL{Host: host, Path: "/" + path, RawQuery: "go-get=1"}, nil
}

// goGetDynamic asks the import path's host for go-import meta tags
// (cmd/go/internal/vcs.repoRootForImportDynamic).
func goGetDynamic(ctx context.Context, importPath string, opts *DiscoverOptions) (*RepoRoot, error) {
	u, err := goGetURL(importPath)
	if err != nil {
		return nil, err
	}
	resp, err := goGetFetch(ctx, u, opts, opts.Insecure)
	if err != nil {
		if opts.Insecure {
			return nil, fmt.Errorf("http/https fetch: %w", err)
		}
		return nil, fmt.Errorf("https fetch: %w", err)
	}
	imports, statusErr, err := resp.metaImports(opts.IgnoreMod)
	if statusErr != nil {
		return nil, statusErr
	}
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", importPath, err)
	}
	mi, err := matchMetaImport(imports, importPath)
	if err != nil {
		var mismatch *metaImportMismatchError
		if !errors.As(err, &mismatch) {
			return nil, fmt.Errorf("parse %s: %w", u, err)
		}
		return nil, fmt.Errorf("parse %s: no go-import meta tags (%w)", resp.url, err)
	}
	// A page for uni.edu/bob/project may claim the prefix uni.edu; trust the
	// claim only if uni.edu's own page makes it too.
	if mi.Prefix != importPath {
		u2, imports2, err := goGetPrefixImports(ctx, mi.Prefix, opts)
		if err != nil {
			return nil, err
		}
		mi2, err := matchMetaImport(imports2, importPath)
		if err != nil || mi != mi2 {
			return nil, fmt.Errorf("%s and %s disagree about go-import for %s", resp.url, u2, mi.Prefix)
		}
	}
	if err := checkMetaSubDir(mi.SubDir); err != nil {
		return nil, fmt.Errorf("%s: invalid subdirectory %q: %w", resp.url, mi.SubDir, err)
	}
	if err := checkMetaRepoRoot(mi.RepoRoot); err != nil {
		return nil, fmt.Errorf("%s: invalid repo root %q: %w", resp.url, mi.RepoRoot, err)
	}
	if mi.VCS != "mod" && goGetVCSByCmd(mi.VCS) == nil {
		return nil, fmt.Errorf("%s: unknown vcs %q", resp.url, mi.VCS)
	}
	if err := opts.checkVCS(mi.VCS, mi.Prefix); err != nil {
		return nil, err
	}
	return &RepoRoot{Root: mi.Prefix, Repo: mi.RepoRoot, VCS: mi.VCS, SubDir: mi.SubDir, IsCustom: true}, nil
}

// goGetPrefixImports fetches the meta tags of a declared prefix's own page
// (cmd/go/internal/vcs.metaImportsForPrefix). The URL is returned even
// with an error.
func goGetPrefixImports(ctx context.Context, prefix string, opts *DiscoverOptions) (*url.URL, []MetaImport, error) {
	u, err := goGetURL(prefix)
	if err != nil {
		return nil, nil, err
	}
	resp, err := goGetFetch(ctx, u, opts, opts.Insecure)
	if err != nil {
		return u, nil, fmt.Errorf("fetching %s: %w", prefix, err)
	}
	imports, statusErr, err := resp.metaImports(opts.IgnoreMod)
	if statusErr != nil {
		return u, nil, statusErr
	}
	if err != nil {
		return u, nil, fmt.Errorf("parsing %s: %w", resp.url, err)
	}
	if len(imports) == 0 {
		return u, nil, fmt.Errorf("fetching %s: no go-import meta tag found in %s", prefix, resp.url)
	}
	return u, imports, nil
}

// checkMetaSubDir is cmd/go/internal/vcs.validateRepoSubDir: a subdirectory
// must not look absolute or like a command-line flag.
func checkMetaSubDir(subdir string) error {
	switch {
	case subdir == "":
		return nil
	case subdir[0] == '/':
		return errors.New("leading slash")
	case subdir[0] == '-':
		return errors.New("leading hyphen")
	}
	return nil
}

// checkMetaRepoRoot is cmd/go/internal/vcs.validateRepoRoot: the repository
// must be a URL with a scheme, and not a local file.
func checkMetaRepoRoot(root string) error {
	u, err := url.Parse(root)
	if err != nil {
		return err
	}
	switch u.Scheme {
	case "":
		return errors.New("no scheme")
	case "file":
		return errors.New("file scheme disallowed")
	}
	return nil
}

// A MetaImport is one <meta name="go-import" content="prefix vcs repo [subdir]">
// tag.
type MetaImport struct {
	Prefix, VCS, RepoRoot, SubDir string
}

// ParseMetaGoImports returns the go-import meta tags of an HTML page, as the
// go command reads them (cmd/go/internal/vcs.parseMetaGoImports): a
// forgiving XML tokenizer that stops at <body> or </head>; names and
// attribute keys compared without case; "content" split on white space
// into 3 or 4 fields, other tags ignored; only UTF-8 (or ASCII) documents.
// A syntax error is reported only if no tag was found before it.
//
// Unless ignoreMod is set, tags with VCS "mod" come first and hide the
// other tags for the same prefix; with ignoreMod they are dropped.
func ParseMetaGoImports(r io.Reader, ignoreMod bool) ([]MetaImport, error) {
	d := xml.NewDecoder(r)
	d.Strict = false
	d.CharsetReader = func(charset string, input io.Reader) (io.Reader, error) {
		switch strings.ToLower(charset) {
		case "utf-8", "ascii":
			return input, nil
		}
		return nil, fmt.Errorf("can't decode XML document using charset %q", charset)
	}
	var all []MetaImport
	for {
		tok, err := d.RawToken()
		if err != nil {
			if err != io.EOF && len(all) == 0 {
				return nil, err
			}
			break
		}
		if end, ok := tok.(xml.EndElement); ok && strings.EqualFold(end.Name.Local, "head") {
			break
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if strings.EqualFold(start.Name.Local, "body") {
			break
		}
		if !strings.EqualFold(start.Name.Local, "meta") || xmlAttr(start.Attr, "name") != "go-import" {
			continue
		}
		f := strings.Fields(xmlAttr(start.Attr, "content"))
		if len(f) != 3 && len(f) != 4 {
			continue
		}
		mi := MetaImport{Prefix: f[0], VCS: f[1], RepoRoot: f[2]}
		if len(f) == 4 {
			mi.SubDir = f[3]
		}
		all = append(all, mi)
	}

	var list []MetaImport
	modPrefix := map[string]bool{}
	if !ignoreMod {
		for _, mi := range all {
			if mi.VCS == "mod" {
				modPrefix[mi.Prefix] = true
				list = append(list, mi)
			}
		}
	}
	for _, mi := range all {
		if mi.VCS != "mod" && !modPrefix[mi.Prefix] {
			list = append(list, mi)
		}
	}
	return list, nil
}

// xmlAttr returns the value of the first attribute named name, ignoring case.
func xmlAttr(attrs []xml.Attr, name string) string {
	for _, a := range attrs {
		if strings.EqualFold(a.Name.Local, name) {
			return a.Value
		}
	}
	return ""
}

// metaImportMismatchError says tags were found but none applies to the path
// (cmd/go/internal/vcs.ImportMismatchError).
type metaImportMismatchError struct {
	importPath string
	prefixes   []string
}

func (e *metaImportMismatchError) Error() string {
	msgs := make([]string, len(e.prefixes))
	for i, p := range e.prefixes {
		msgs[i] = fmt.Sprintf("meta tag %s did not match import path %s", p, e.importPath)
	}
	return strings.Join(msgs, ", ")
}

// matchMetaImport picks the tag whose prefix is a path prefix of
// importPath (cmd/go/internal/vcs.matchGoImport). Two matches are an error,
// unless the first is a "mod" tag: those precede all others and win.
func matchMetaImport(imports []MetaImport, importPath string) (MetaImport, error) {
	match := -1
	mismatch := &metaImportMismatchError{importPath: importPath}
	for i, mi := range imports {
		if !pathHasPrefix(importPath, mi.Prefix) {
			mismatch.prefixes = append(mismatch.prefixes, mi.Prefix)
			continue
		}
		if match >= 0 {
			if imports[match].VCS == "mod" && mi.VCS != "mod" {
				break
			}
			return MetaImport{}, fmt.Errorf("multiple meta tags match import path %q", importPath)
		}
		match = i
	}
	if match < 0 {
		return MetaImport{}, mismatch
	}
	return imports[match], nil
}
