package analyzer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"sync"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// A ModuleInfoSource answers the retracted check's questions about a module,
// as the go command answers them from the go.mod of the module's latest
// version (cmd/go/internal/modload/modfile.go: CheckRetractions,
// CheckDeprecation, queryLatestVersionIgnoringRetractions).
type ModuleInfoSource interface {
	// Retraction reports whether the authors of module path retracted
	// version, with their rationale ("" if they gave none).
	Retraction(ctx context.Context, path, version string) (retracted bool, rationale string, err error)
	// Deprecation returns the deprecation message of module path, or ""
	// if the module is not deprecated.
	Deprecation(ctx context.Context, path string) (string, error)
}

// ProxySource is a [ModuleInfoSource] that asks module proxies with the
// GOPROXY protocol: it lists the module's versions (@v/list, or @latest
// when the list is empty), picks the latest the way the go command's
// "latest" query does, and reads that version's go.mod (@v/<version>.mod)
// for its retract directives and "// Deprecated:" comment.
//
// It is a deliberately small stand-in until the module network client of
// this repository takes over: it tries the GOPROXY entries in order,
// falling back to the next entry after "not found" (404, 410) for a ","
// separator and after any error for "|", as cmd/go's modfetch.TryProxies
// does (cmd/go/internal/modfetch/proxy.go); "direct" and "off" end the list
// with an error, because fetching from version control is out of its scope.
// Modules matching GONOPROXY or GOPRIVATE are treated as "direct". It sends
// no credentials. Answers are cached per module for the life of the value.
//
// The zero ProxySource is ready to use.
type ProxySource struct {
	// Getenv returns the value of a Go environment variable (GOPROXY,
	// GONOPROXY, GOPRIVATE). Nil means "go env" as the go command
	// computes it (process environment, GOENV file, $GOROOT/go.env), read
	// once.
	Getenv func(key string) string
	// Client performs the requests. Nil means http.DefaultClient.
	Client *http.Client

	mu     sync.Mutex
	latest map[string]*latestInfo
	env    map[string]string
	envErr error
}

// latestInfo is what the latest version's go.mod says about its module.
type latestInfo struct {
	done       chan struct{}
	retract    []*modfile.Retract
	deprecated string
	err        error
}

// Retraction implements [ModuleInfoSource].
func (s *ProxySource) Retraction(ctx context.Context, path, version string) (bool, string, error) {
	info := s.lookup(ctx, path)
	if info.err != nil {
		return false, "", info.err
	}
	for _, r := range info.retract {
		if semver.Compare(r.Low, version) <= 0 && semver.Compare(version, r.High) <= 0 {
			return true, r.Rationale, nil
		}
	}
	return false, "", nil
}

// Deprecation implements [ModuleInfoSource].
func (s *ProxySource) Deprecation(ctx context.Context, path string) (string, error) {
	info := s.lookup(ctx, path)
	return info.deprecated, info.err
}

// lookup fetches the latest go.mod of path once; concurrent callers wait
// for the first.
func (s *ProxySource) lookup(ctx context.Context, path string) *latestInfo {
	s.mu.Lock()
	if s.latest == nil {
		s.latest = make(map[string]*latestInfo)
	}
	info, ok := s.latest[path]
	if !ok {
		info = &latestInfo{done: make(chan struct{})}
		s.latest[path] = info
	}
	s.mu.Unlock()
	if ok {
		select {
		case <-info.done:
		case <-ctx.Done():
			return &latestInfo{err: ctx.Err()}
		}
		return info
	}
	defer close(info.done)
	data, err := s.latestGoMod(ctx, path)
	if err != nil {
		info.err = err
		return info
	}
	f, err := modfile.ParseLax("go.mod", data, nil)
	if err != nil {
		info.err = fmt.Errorf("%s: parsing latest go.mod: %w", path, err)
		return info
	}
	info.retract = f.Retract
	if f.Module != nil {
		info.deprecated = f.Module.Deprecated
	}
	return info
}

// latestGoMod returns the go.mod of the latest version of path, trying the
// GOPROXY entries in order.
func (s *ProxySource) latestGoMod(ctx context.Context, path string) ([]byte, error) {
	escPath, err := module.EscapePath(path)
	if err != nil {
		return nil, err
	}
	proxy, err := s.getenv("GOPROXY")
	if err != nil {
		return nil, err
	}
	noproxy, err := s.getenv("GONOPROXY")
	if err != nil {
		return nil, err
	}
	if noproxy == "" {
		noproxy, _ = s.getenv("GOPRIVATE")
	}
	if noproxy != "" && module.MatchPrefixPatterns(noproxy, path) {
		return nil, fmt.Errorf("%s matches GONOPROXY/GOPRIVATE, so the go command fetches it directly from version control, which this check does not do", path)
	}
	var lastErr error
	for proxy != "" {
		entry, fallBackOnError := proxy, false
		if i := strings.IndexAny(proxy, ",|"); i >= 0 {
			entry, fallBackOnError, proxy = proxy[:i], proxy[i] == '|', proxy[i+1:]
		} else {
			proxy = ""
		}
		entry = strings.TrimSpace(entry)
		switch entry {
		case "":
			continue
		case "off":
			return nil, joinNotFound(lastErr, fmt.Errorf("module lookup disabled by GOPROXY=off"))
		case "direct":
			return nil, joinNotFound(lastErr, fmt.Errorf("GOPROXY reached \"direct\": fetching %s from version control is not done by this check", path))
		}
		// cmd/go (modfetch.proxyList) adds https:// to bare host names.
		if !strings.Contains(entry, ":/") {
			entry = "https://" + entry
		}
		data, err := s.latestFrom(ctx, strings.TrimSuffix(entry, "/")+"/"+escPath)
		if err == nil {
			return data, nil
		}
		lastErr = err
		if !fallBackOnError && !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if lastErr == nil {
		lastErr = fmt.Errorf("GOPROXY lists no proxy")
	}
	return nil, lastErr
}

// joinNotFound prefers a proxy's "not found" over the end-of-list error,
// because it says more about the module.
func joinNotFound(prev, end error) error {
	if prev != nil {
		return prev
	}
	return end
}

// latestFrom finds the latest version at one proxy base (proxy URL plus
// escaped module path) and returns its go.mod.
func (s *ProxySource) latestFrom(ctx context.Context, base string) ([]byte, error) {
	list, err := s.get(ctx, base+"/@v/list")
	if err != nil {
		return nil, err
	}
	version := latestFromList(strings.Split(string(list), "\n"))
	if version == "" {
		data, err := s.get(ctx, base+"/@latest")
		if err != nil {
			return nil, err
		}
		var info struct{ Version string }
		if err := json.Unmarshal(data, &info); err != nil || !semver.IsValid(info.Version) {
			return nil, fmt.Errorf("invalid @latest answer from %s", redact(base))
		}
		version = info.Version
	}
	escVersion, err := module.EscapeVersion(version)
	if err != nil {
		return nil, err
	}
	return s.get(ctx, base+"/@v/"+escVersion+".mod")
}

// latestFromList returns the latest version in a @v/list answer: the
// highest release, else the highest pre-release; pseudo-versions do not
// count, as in cmd/go's proxyRepo.Versions and the "latest" query
// (cmd/go/internal/modfetch/proxy.go, modload/query.go). "" if none.
func latestFromList(lines []string) string {
	var release, pre string
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) == 0 || !semver.IsValid(f[0]) || module.IsPseudoVersion(f[0]) {
			continue
		}
		v := f[0]
		if semver.Prerelease(v) == "" {
			if release == "" || semver.Compare(v, release) > 0 {
				release = v
			}
		} else if pre == "" || semver.Compare(v, pre) > 0 {
			pre = v
		}
	}
	if release != "" {
		return release
	}
	return pre
}

// get fetches u. "Not found" answers (404, 410) match fs.ErrNotExist, as
// in cmd/go's web package.
func (s *ProxySource) get(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the URL, credentials included
		}
		return nil, fmt.Errorf("GET %s: %w", redact(u), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", redact(u), err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, fmt.Errorf("GET %s: %s: %w", redact(u), resp.Status, fs.ErrNotExist)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("GET %s: %s", redact(u), resp.Status)
	}
	return body, nil
}

// redact removes credentials from a URL for messages.
func redact(u string) string {
	if p, err := url.Parse(u); err == nil {
		return p.Redacted()
	}
	return u
}

// getenv returns a Go environment variable through Getenv, or through one
// "go env" call.
func (s *ProxySource) getenv(key string) (string, error) {
	if s.Getenv != nil {
		return s.Getenv(key), nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.env == nil && s.envErr == nil {
		out, err := exec.Command("go", "env", "-json", "GOPROXY", "GONOPROXY", "GOPRIVATE").Output()
		if err != nil {
			s.envErr = fmt.Errorf("go env: %w", err)
		} else if err := json.Unmarshal(out, &s.env); err != nil {
			s.envErr = fmt.Errorf("go env: %w", err)
		}
	}
	return s.env[key], s.envErr
}
