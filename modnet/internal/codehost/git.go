package codehost

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"github.com/modkit/modkit/internal/osenv"
	"github.com/modkit/modkit/internal/web"
	"github.com/modkit/modkit/modnet/internal/lockedfile"
)

// This file is the Repo of git: a bare mirror of a remote repository in the
// module cache, fetched on demand with the system git, answering questions
// about refs, commits and files (cmd/go/internal/modfetch/codehost/git.go).

// gitWorkDirType names the layout of the work directory; it is part of the
// directory's hash, so modkit and the go command share directories.
const gitWorkDirType = "git3"

// Fetch depths reached in this process (cmd/go's fetchNone/Some/All).
const (
	gitFetchNone = iota
	gitFetchSome // shallow fetches of individual commits
	gitFetchAll  // all branches and tags with history
)

// gitMinHashDigits is the shortest hex string taken as a commit hash prefix.
const gitMinHashDigits = 7

// A gitRepo is a remote git repository mirrored in a bare work
// directory. It is safe for concurrent use.
type gitRepo struct {
	remoteURL string
	dir       string   // bare repository, $GOMODCACHE/cache/vcs/<sha256>
	lockPath  string   // dir + ".lock", shared with the go command
	git       string   // git binary
	env       []string // environment for git, GIT_DIR appended
	doer      func(*http.Request) (*http.Response, error)

	sha256Hashes bool

	fetchMu    sync.Mutex // guards fetchLevel; taken inside the file lock
	fetchLevel int

	refsOnce sync.Once
	refs     map[string]string // "HEAD", "refs/heads/x", "refs/tags/y" -> commit
	refsErr  error

	localTagsOnce sync.Once
	localTags     sync.Map // tag name -> true, for tags already fetched

	statMu    sync.Mutex
	statCache map[string]*gitStatResult
}

type gitStatResult struct {
	once sync.Once
	info *RevInfo
	err  error
}

// gitUnknownRevisionError is a revision the repository does not have.
type gitUnknownRevisionError struct{ rev string }

func (e *gitUnknownRevisionError) Error() string        { return "unknown revision " + e.rev }
func (e *gitUnknownRevisionError) Is(target error) bool { return target == fs.ErrNotExist }

// errGitNoCommits reports a repository without commits.
var errGitNoCommits error = &NotExistError{errors.New("no commits")}

// gitRunError is a failed git command, with its standard error
// (cmd/go/internal/modfetch/codehost.RunError).
type gitRunError struct {
	cmd    string
	err    error
	stderr []byte
	help   string
}

func (e *gitRunError) Error() string {
	s := e.cmd + ": " + e.err.Error()
	if stderr := bytes.TrimRight(e.stderr, "\n"); len(stderr) > 0 {
		s += ":\n\t" + strings.ReplaceAll(string(stderr), "\n", "\n\t")
	}
	if e.help != "" {
		s += "\n" + e.help
	}
	return s
}

func (e *gitRunError) Unwrap() error { return e.err }

// NewGitRepo opens (creating if needed) the work directory for remote
// under vcsDir ($GOMODCACHE/cache/vcs), as codehost.WorkDir and newGitRepo
// do: the directory is named for the SHA-256 of "git3:"+remote, never for
// the URL, so that no checkout nests in another; a ".info" file beside it
// holds that key and a ".lock" file serialises users. Git runs with
// Environ(environ); doer, if not nil, sends the GET that tells a missing
// repository (404, 410) from an unreachable one.
func NewGitRepo(ctx context.Context, remote, vcsDir string, environ []string, doer func(*http.Request) (*http.Response, error)) (Repo, error) {
	if !strings.Contains(remote, "://") {
		if strings.Contains(remote, ":") {
			return nil, fmt.Errorf("git remote (%s) must not be local directory (use URL syntax not host:path syntax)", remote)
		}
		return nil, fmt.Errorf("git remote (%s) must not be local directory", remote)
	}
	gitBin, err := FindGit(environ)
	if err != nil {
		return nil, err
	}
	key := gitWorkDirType + ":" + remote
	dir := filepath.Join(vcsDir, fmt.Sprintf("%x", sha256.Sum256([]byte(key))))
	r := &gitRepo{
		remoteURL: remote,
		dir:       dir,
		lockPath:  dir + ".lock",
		git:       gitBin,
		env:       append(Environ(environ), "GIT_DIR="+dir),
		doer:      doer,
		statCache: map[string]*gitStatResult{},
	}
	if err := os.MkdirAll(vcsDir, 0o777); err != nil {
		return nil, err
	}
	unlock, err := vcsLock(ctx, r.lockPath)
	if err != nil {
		return nil, fmt.Errorf("git work directory: can't find or create lock file: %w", err)
	}
	defer unlock()

	data, errInfo := os.ReadFile(dir + ".info")
	fi, errDir := os.Stat(dir)
	if errInfo == nil && errDir == nil && fi.IsDir() {
		if have := strings.TrimSuffix(string(data), "\n"); have != key {
			return nil, fmt.Errorf("%s exists with wrong content (have %q want %q)", dir+".info", have, key)
		}
	} else {
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return nil, err
		}
		if err := os.WriteFile(dir+".info", []byte(key), 0o666); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}

	if _, err := os.Stat(filepath.Join(dir, "objects")); err != nil {
		// Ask the remote first, by URL: its hashes say whether the mirror
		// must use SHA-256 objects.
		useSHA256 := false
		if refs, err := r.loadRefs(ctx, remote); err == nil {
			for _, h := range refs {
				useSHA256 = len(h) == 64
				break
			}
		}
		var format []string
		if useSHA256 {
			format = []string{"--object-format=sha256"}
		} else if ok, err := gitAtLeast(ctx, gitBin, "v2.29"); err != nil {
			return nil, fmt.Errorf("unable to resolve git version: %w", err)
		} else if ok {
			format = []string{"--object-format=sha1"}
		}
		if _, err := r.run(ctx, append([]string{"init", "--bare"}, format...)...); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		// A named remote, rather than fetching from the URL each time,
		// keeps Git LFS working (go.dev/issue/25605).
		if _, err := r.run(ctx, "remote", "add", "origin", "--", remote); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		if runtime.GOOS == "windows" {
			// Module paths and branch names can exceed MAX_PATH.
			if _, err := r.run(ctx, "config", "core.longpaths", "true"); err != nil {
				os.RemoveAll(dir)
				return nil, err
			}
		}
	}
	if out, err := r.run(ctx, "config", "extensions.objectformat"); err == nil {
		r.sha256Hashes = strings.TrimSpace(string(out)) == "sha256"
	}
	return r, nil
}

// FindGit locates git on the PATH of environ, or else of the process.
func FindGit(environ []string) (string, error) {
	for i := len(environ) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(environ[i], "="); ok && k == "PATH" {
			p, err := osenv.LookPath("git", v)
			if err != nil {
				return "", fmt.Errorf("missing git command (%v); direct mode needs git, see https://golang.org/s/gogetcmd", err)
			}
			return p, nil
		}
	}
	p, err := exec.LookPath("git")
	if err != nil {
		return "", fmt.Errorf("missing git command (%v); direct mode needs git, see https://golang.org/s/gogetcmd", err)
	}
	return p, nil
}

var gitVersionRE = regexp.MustCompile(`git version\s+(\d+\.\d+(?:\.\d+)?)`)

// gitAtLeast reports whether git is at least version min ("v2.29").
func gitAtLeast(ctx context.Context, gitBin, min string) (bool, error) {
	out, err := exec.CommandContext(ctx, gitBin, "version").CombinedOutput()
	if err != nil {
		return false, fmt.Errorf("failed to execute git version: %w", err)
	}
	m := gitVersionRE.FindSubmatch(out)
	if m == nil {
		return false, fmt.Errorf("git version extraction regexp did not match version line: %q", out)
	}
	return semver.Compare(min, "v"+string(m[1])) <= 0, nil
}

// vcsDirMu serialises, within this process, the users of one lock file;
// flock then excludes other processes.
var vcsDirMu sync.Map // path -> *sync.Mutex

// vcsLock locks path as the go command's lockedfile.MutexAt does (the
// module cache's lock implementation), after a mutex that makes goroutines
// of this process wait their turn without polling the file lock.
func vcsLock(ctx context.Context, path string) (unlock func(), err error) {
	mi, _ := vcsDirMu.LoadOrStore(path, new(sync.Mutex))
	mu := mi.(*sync.Mutex)
	mu.Lock()
	unlockFile, err := lockedfile.Lock(ctx, path)
	if err != nil {
		mu.Unlock()
		return nil, err
	}
	return func() {
		unlockFile()
		mu.Unlock()
	}, nil
}

// gitCmdMu serialises git commands per work directory, as the go command
// does (codehost.run's dirLock).
var gitCmdMu sync.Map // dir -> *sync.Mutex

// run runs git in the work directory and returns its standard output.
func (r *gitRepo) run(ctx context.Context, args ...string) ([]byte, error) {
	var stdout bytes.Buffer
	err := r.runTo(ctx, &stdout, args...)
	return stdout.Bytes(), err
}

// runTo runs git with standard output going to w.
func (r *gitRepo) runTo(ctx context.Context, w io.Writer, args ...string) error {
	mi, _ := gitCmdMu.LoadOrStore(r.dir, new(sync.Mutex))
	mu := mi.(*sync.Mutex)
	mu.Lock()
	defer mu.Unlock()

	var stderr bytes.Buffer
	c := exec.CommandContext(ctx, r.git, args...)
	c.Cancel = func() error { return c.Process.Signal(os.Interrupt) }
	c.WaitDelay = 5 * time.Second
	c.Dir = r.dir
	c.Env = r.env
	c.Stdout = w
	c.Stderr = &stderr
	if err := c.Run(); err != nil {
		re := &gitRunError{cmd: "git " + strings.Join(args, " ") + " in " + r.dir, err: err, stderr: stderr.Bytes()}
		if slices.Contains(args, "ls-remote") || slices.Contains(args, "fetch") {
			re.help = sshHelp(ctx, r.git, r.env, r.remoteURL, re.stderr)
		}
		return re
	}
	return nil
}

// loadRefs lists the remote's branches and tags once ('git ls-remote'),
// with annotated tags resolved to their commits. remote is the URL before
// the work directory exists, "origin" after.
func (r *gitRepo) loadRefs(ctx context.Context, remote string) (map[string]string, error) {
	r.refsOnce.Do(func() {
		out, err := r.run(ctx, "ls-remote", "-q", "--end-of-options", remote)
		if err != nil {
			var re *gitRunError
			if errors.As(err, &re) && re.help == "" && bytes.Contains(re.stderr, []byte("fatal: could not read Username")) {
				re.help = "Confirm the import path was entered correctly.\nIf this is a private repository, see https://golang.org/doc/faq#git_https for additional information."
			}
			// A repository URL that does not exist at all makes the module
			// not exist; over http(s) the server's status says so.
			if u, perr := url.Parse(r.remoteURL); perr == nil && (u.Scheme == "http" || u.Scheme == "https") && r.urlNotFound(ctx, u) {
				err = &NotExistError{err}
			}
			r.refsErr = err
			return
		}
		refs := map[string]string{}
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) != 2 {
				continue
			}
			if f[1] == "HEAD" || strings.HasPrefix(f[1], "refs/heads/") || strings.HasPrefix(f[1], "refs/tags/") {
				refs[f[1]] = f[0]
			}
		}
		for ref, hash := range refs {
			if tag, ok := strings.CutSuffix(ref, "^{}"); ok {
				refs[tag] = hash // an annotated tag names the commit it points at
				delete(refs, ref)
			}
		}
		r.refs = refs
	})
	return r.refs, r.refsErr
}

// urlNotFound GETs the repository URL and reports a 404 or 410.
func (r *gitRepo) urlNotFound(ctx context.Context, u *url.URL) bool {
	do := r.doer
	if do == nil {
		do = web.Client.Do
	}
	resp, err := web.Get(ctx, do, u, u.Scheme == "https")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone
}

func (r *gitRepo) originRefs(ctx context.Context) (map[string]string, error) {
	return r.loadRefs(ctx, "origin")
}

// Tags lists the tags starting with prefix, sorted, with an Origin whose
// TagSum hashes the tags that can matter for module versions under the
// prefix's directory (codehost.gitRepo.Tags).
func (r *gitRepo) Tags(ctx context.Context, prefix string) (*Tags, error) {
	refs, err := r.originRefs(ctx)
	if err != nil {
		return nil, err
	}
	t := &Tags{Origin: &Origin{VCS: "git", URL: r.remoteURL, TagPrefix: prefix}, List: []Tag{}}
	for ref, hash := range refs {
		if tag, ok := strings.CutPrefix(ref, "refs/tags/"); ok && strings.HasPrefix(tag, prefix) {
			t.List = append(t.List, Tag{tag, hash})
		}
	}
	sort.Slice(t.List, func(i, j int) bool { return t.List[i].Name < t.List[j].Name })
	dir := prefix[:strings.LastIndex(prefix, "/")+1]
	h := sha256.New()
	for _, tag := range t.List {
		if gitOriginTag(strings.TrimPrefix(tag.Name, dir)) {
			fmt.Fprintf(h, "%q %s\n", tag.Name, tag.Hash)
		}
	}
	t.Origin.TagSum = "t1:" + base64.StdEncoding.EncodeToString(h.Sum(nil))
	return t, nil
}

// gitOriginTag reports whether a tag (without directory) can affect a
// version list or pseudo-version base: semver-like and not itself a
// pseudo-version (codehost.isOriginTag).
func gitOriginTag(tag string) bool {
	c := semver.Canonical(tag)
	return c != "" && strings.HasPrefix(tag, c) && !module.IsPseudoVersion(tag)
}

// repoSum hashes every ref, for Origins of versions that do not exist.
func gitRepoSum(refs map[string]string) string {
	names := make([]string, 0, len(refs))
	for ref := range refs {
		names = append(names, ref)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, ref := range names {
		fmt.Fprintf(h, "%q %s\n", ref, refs[ref])
	}
	return "r1:" + base64.StdEncoding.EncodeToString(h.Sum(nil))
}

func (r *gitRepo) unknownRevisionInfo(refs map[string]string) *RevInfo {
	return &RevInfo{Origin: &Origin{VCS: "git", URL: r.remoteURL, RepoSum: gitRepoSum(refs)}}
}

// Latest describes the commit HEAD names on the remote.
func (r *gitRepo) Latest(ctx context.Context) (*RevInfo, error) {
	refs, err := r.originRefs(ctx)
	if err != nil {
		return nil, err
	}
	if refs["HEAD"] == "" {
		return nil, errGitNoCommits
	}
	st, err := r.Stat(ctx, refs["HEAD"])
	if err != nil {
		return nil, err
	}
	info := *st
	o := Origin{}
	if st.Origin != nil {
		o = *st.Origin
	}
	o.Ref, o.Hash = "HEAD", refs["HEAD"]
	info.Origin = &o
	return &info, nil
}

func (r *gitRepo) hexHashLen() int {
	if r.sha256Hashes {
		return 64
	}
	return 40
}

// gitAllHex reports whether rev is lower-case hexadecimal.
func gitAllHex(rev string) bool {
	for i := 0; i < len(rev); i++ {
		if c := rev[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func (r *gitRepo) shortHash(hash string) string {
	if gitAllHex(hash) && len(hash) == r.hexHashLen() {
		return hash[:12]
	}
	return hash
}

// Stat describes a revision: a tag, branch, "HEAD" or (prefix of a) commit
// hash; "latest" is HEAD. Results are cached for the repository's life.
func (r *gitRepo) Stat(ctx context.Context, rev string) (*RevInfo, error) {
	if rev == "latest" {
		return r.Latest(ctx)
	}
	r.statMu.Lock()
	res := r.statCache[rev]
	if res == nil {
		res = &gitStatResult{}
		r.statCache[rev] = res
	}
	r.statMu.Unlock()
	res.once.Do(func() { res.info, res.err = r.statUncached(ctx, rev) })
	return res.info, res.err
}

// statUncached is codehost.gitRepo.stat: look locally first, then resolve
// rev against the remote's refs and fetch just that commit, and only as a
// last resort all branches and tags. Commits reachable from no branch or
// tag (such as rejected pull requests that hosts expose) are never fetched.
func (r *gitRepo) statUncached(ctx context.Context, rev string) (info *RevInfo, err error) {
	didStatLocal := false
	if len(rev) >= gitMinHashDigits && len(rev) <= r.hexHashLen() && gitAllHex(rev) {
		if info, err := r.statLocal(ctx, rev, rev); err == nil {
			return info, nil
		}
		didStatLocal = true
	}
	// Tags already fetched do not move; branches might, so they are not
	// taken from the local mirror.
	r.localTagsOnce.Do(func() {
		if out, err := r.run(ctx, "tag", "-l"); err == nil {
			for _, t := range strings.Split(string(out), "\n") {
				if t != "" {
					r.localTags.Store(t, true)
				}
			}
		}
	})
	if _, ok := r.localTags.Load(rev); ok {
		return r.statLocal(ctx, rev, "refs/tags/"+rev)
	}

	refs, err := r.originRefs(ctx)
	if err != nil {
		return nil, err
	}
	var ref, hash string
	switch {
	case refs["refs/tags/"+rev] != "":
		ref = "refs/tags/" + rev
		hash = refs[ref]
	case refs["refs/heads/"+rev] != "":
		ref = "refs/heads/" + rev
		hash = refs[ref]
		rev = hash // a branch moves: remember the commit
	case rev == "HEAD" && refs["HEAD"] != "":
		ref = "HEAD"
		hash = refs[ref]
		rev = hash
	case len(rev) >= gitMinHashDigits && len(rev) <= r.hexHashLen() && gitAllHex(rev):
		prefix := rev
		for k, h := range refs {
			if strings.HasPrefix(h, prefix) {
				if hash != "" && hash != h {
					return nil, fmt.Errorf("ambiguous revision %s", rev)
				}
				if ref == "" || ref > k {
					ref = k // deterministic among refs naming the same commit
				}
				rev, hash = h, h
			}
		}
		if hash == "" && len(rev) == r.hexHashLen() {
			hash = rev
		}
	default:
		return r.unknownRevisionInfo(refs), &gitUnknownRevisionError{rev}
	}

	defer func() {
		if info != nil {
			info.Origin.Hash = info.Name
			if ref != info.Origin.Hash {
				info.Origin.Ref = ref
			}
		}
	}()

	unlock, err := vcsLock(ctx, r.lockPath)
	if err != nil {
		return nil, err
	}
	defer unlock()
	r.fetchMu.Lock()
	defer r.fetchMu.Unlock()

	// Another fetch may have brought the commit meanwhile, perhaps without
	// its tag.
	if !didStatLocal {
		if info, err := r.statLocal(ctx, rev, hash); err == nil {
			if tag, isTag := strings.CutPrefix(ref, "refs/tags/"); isTag && !slices.Contains(info.Tags, tag) {
				if _, err := r.run(ctx, "tag", "--end-of-options", tag, hash); err != nil {
					return nil, err
				}
				r.localTags.Store(tag, true)
				return r.statLocal(ctx, rev, ref)
			}
			return info, nil
		}
	}

	if r.fetchLevel <= gitFetchSome && ref != "" && hash != "" {
		r.fetchLevel = gitFetchSome
		var refspec string
		if ref == "HEAD" {
			// A local name outside refs/tags makes git also create the
			// remote tags that point at the commit.
			ref = hash
			refspec = hash + ":refs/dummy"
		} else {
			// Some servers refuse hashes in refspecs; names also let the
			// tag show up locally next time.
			refspec = ref + ":" + ref
		}
		// protocol.version=2 avoids a git bug that drops tags on the
		// fetched commit (go.dev/issue/56881).
		if _, err := r.run(ctx, "-c", "protocol.version=2", "fetch", "-f", "--depth=1", "--end-of-options", "origin", refspec); err == nil {
			return r.statLocal(ctx, rev, ref)
		}
		// Whatever went wrong, a complete fetch may still work.
	}
	if err := r.fetchAllLocked(ctx); err != nil {
		return nil, err
	}
	return r.statLocal(ctx, rev, rev)
}

// fetchAllLocked fetches every branch and tag with full history, once; the
// caller holds the file lock and fetchMu (codehost.fetchRefsLocked).
func (r *gitRepo) fetchAllLocked(ctx context.Context) error {
	if r.fetchLevel >= gitFetchAll {
		return nil
	}
	// Expanding the refs and unshallowing are separate fetches to avoid a
	// bug in older gits (go.dev/issue/34266).
	if _, err := r.run(ctx, "fetch", "-f", "--end-of-options", "origin", "refs/heads/*:refs/heads/*", "refs/tags/*:refs/tags/*"); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(r.dir, "shallow")); err == nil {
		if _, err := r.run(ctx, "fetch", "--unshallow", "-f", "--end-of-options", "origin"); err != nil {
			return err
		}
	}
	r.fetchLevel = gitFetchAll
	return nil
}

// fetchAll takes the locks and fetches all history.
func (r *gitRepo) fetchAll(ctx context.Context) error {
	unlock, err := vcsLock(ctx, r.lockPath)
	if err != nil {
		return err
	}
	defer unlock()
	r.fetchMu.Lock()
	defer r.fetchMu.Unlock()
	return r.fetchAllLocked(ctx)
}

// statLocal describes rev from the local mirror; version is what the
// caller asked for, kept as Version if it is one of the commit's tags.
func (r *gitRepo) statLocal(ctx context.Context, version, rev string) (*RevInfo, error) {
	out, err := r.run(ctx, "-c", "log.showsignature=false", "log", "--no-decorate", "-n1", "--format=format:%H %ct %D", "--end-of-options", rev, "--")
	if err != nil {
		var info *RevInfo
		if refs, err := r.originRefs(ctx); err == nil {
			info = r.unknownRevisionInfo(refs)
		}
		return info, &gitUnknownRevisionError{rev}
	}
	f := strings.Fields(string(out))
	if len(f) < 2 {
		return nil, fmt.Errorf("unexpected response from git log: %q", out)
	}
	hash := f[0]
	if strings.HasPrefix(hash, version) {
		version = hash
	}
	secs, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("invalid time from git log: %q", out)
	}
	info := &RevInfo{
		Origin:  &Origin{VCS: "git", URL: r.remoteURL, Hash: hash},
		Name:    hash,
		Short:   r.shortHash(hash),
		Time:    time.Unix(secs, 0).UTC(),
		Version: hash,
	}
	if !strings.HasPrefix(hash, rev) {
		info.Origin.Ref = rev
	}
	// %D reads "HEAD -> main, tag: v1.2.4, tag: v1.2.3, origin/main".
	for i := 2; i < len(f); i++ {
		if f[i] == "tag:" && i+1 < len(f) {
			i++
			info.Tags = append(info.Tags, strings.TrimSuffix(f[i], ","))
		}
	}
	// Newer gits leave tags out of shallow fetches; the remote's list
	// has them.
	if refs, err := r.originRefs(ctx); err == nil {
		for ref, h := range refs {
			if tag, ok := strings.CutPrefix(ref, "refs/tags/"); ok && h == hash {
				info.Tags = append(info.Tags, tag)
			}
		}
	}
	slices.Sort(info.Tags)
	info.Tags = slices.Compact(info.Tags)
	if slices.Contains(info.Tags, version) {
		info.Version = version
	}
	return info, nil
}

// ReadFile returns a file at a revision; a missing file (or revision
// without it) is fs.ErrNotExist.
func (r *gitRepo) ReadFile(ctx context.Context, rev, file string, maxSize int64) ([]byte, error) {
	info, err := r.Stat(ctx, rev)
	if err != nil {
		return nil, err
	}
	out, err := r.run(ctx, "cat-file", "--end-of-options", "blob", info.Name+":"+file)
	if err != nil {
		return nil, fs.ErrNotExist
	}
	if int64(len(out)) > maxSize {
		return nil, fmt.Errorf("%s at revision %s is larger than %d bytes", file, rev, maxSize)
	}
	return out, nil
}

// RecentTag returns the highest tag with prefix, allowed by allowed, on rev
// or an ancestor, fetching full history only if some such tag exists that
// the local mirror cannot place (codehost.gitRepo.RecentTag).
func (r *gitRepo) RecentTag(ctx context.Context, rev, prefix string, allowed func(tag string) bool) (tag string, err error) {
	info, err := r.Stat(ctx, rev)
	if err != nil {
		return "", err
	}
	rev = info.Name
	describe := func() (definitive bool) {
		var out []byte
		out, err = r.run(ctx, "for-each-ref", "--format=%(refname)", "--merged="+rev)
		if err != nil {
			return true
		}
		var highest string
		for _, line := range strings.Split(string(out), "\n") {
			name, ok := strings.CutPrefix(strings.TrimSpace(line), "refs/tags/")
			if !ok || !strings.HasPrefix(name, prefix) || !allowed(name) {
				continue
			}
			if v := name[len(prefix):]; semver.Compare(v, highest) > 0 {
				highest = v
			}
		}
		if highest != "" {
			tag = prefix + highest
		}
		return tag != "" && !gitAllHex(tag)
	}
	if describe() {
		return tag, err
	}
	tags, err := r.Tags(ctx, prefix+"v")
	if err != nil {
		return "", err
	}
	if len(tags.List) == 0 {
		return "", nil
	}
	// Some tag might be an ancestor that the shallow mirror cannot see.
	// allowed may read files, so no lock is held while describe runs.
	if err := r.fetchAll(ctx); err != nil {
		return "", err
	}
	describe()
	return tag, err
}

// DescendsFrom reports whether tag is rev or an ancestor of it
// (codehost.gitRepo.DescendsFrom).
func (r *gitRepo) DescendsFrom(ctx context.Context, rev, tag string) (bool, error) {
	if _, err := r.run(ctx, "merge-base", "--is-ancestor", "--", tag, rev); err == nil {
		return true, nil
	}
	// A shallow mirror can give false negatives: check the tag exists,
	// then fetch history and ask again.
	tags, err := r.Tags(ctx, tag)
	if err != nil {
		return false, err
	}
	if len(tags.List) == 0 {
		return false, nil
	}
	if _, err := r.statUncached(ctx, rev); err != nil {
		return false, err
	}
	if err := r.fetchAll(ctx); err != nil {
		return false, err
	}
	_, err = r.run(ctx, "merge-base", "--is-ancestor", "--", tag, rev)
	if err == nil {
		return true, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 {
		return false, nil
	}
	return false, err
}

// Archive writes 'git archive --format=zip' of a commit (limited to subdir
// when not empty) to w, every entry under "prefix/", as the go command
// makes it: export-subst and export-ignore attributes disabled so that the
// content does not depend on git's version or the repository's size
// (go.dev/issue/27153), and no line-ending conversion on the way out.
func (r *gitRepo) Archive(ctx context.Context, w io.Writer, rev, subdir string) error {
	info, err := r.Stat(ctx, rev)
	if err != nil {
		return err
	}
	unlock, err := vcsLock(ctx, r.lockPath)
	if err != nil {
		return err
	}
	defer unlock()
	if err := gitDisableExportAttrs(r.dir); err != nil {
		return err
	}
	args := []string{"-c", "core.autocrlf=input", "-c", "core.eol=lf", "archive", "--format=zip", "--prefix=prefix/", "--end-of-options", info.Name}
	if subdir != "" {
		args = append(args, subdir)
	}
	if err := r.runTo(ctx, w, args...); err != nil {
		var re *gitRunError
		if errors.As(err, &re) && bytes.Contains(re.stderr, []byte("did not match any files")) {
			return fs.ErrNotExist
		}
		return err
	}
	return nil
}

// gitDisableExportAttrs appends "* -export-subst -export-ignore" to the
// mirror's info/attributes unless it already ends with it
// (codehost.ensureGitAttributes).
func gitDisableExportAttrs(dir string) error {
	const attr = "\n* -export-subst -export-ignore\n"
	if err := os.MkdirAll(filepath.Join(dir, "info"), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, "info", "attributes"), os.O_CREATE|os.O_APPEND|os.O_RDWR, 0o666)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(f)
	if err == nil && !bytes.HasSuffix(b, []byte(attr)) {
		_, err = f.WriteString(attr)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
