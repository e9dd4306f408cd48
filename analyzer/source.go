package analyzer

import (
	"context"
	"sync"

	"golang.org/x/mod/module"

	"github.com/modkit/modkit/modnet"
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

// ModnetSource is the default [ModuleInfoSource]. It asks a
// [modnet.Client], which finds the module's latest version exactly as the
// go command does (GOPROXY with its fallback rules, GONOPROXY and GOPRIVATE
// paths fetched direct from version control, GOAUTH credentials, retries),
// verifies that version's go.mod against go.sum's checksum database and
// caches it in the module cache, then reads its retract directives and
// "// Deprecated:" comment. Answers are remembered per module for the life
// of the value.
//
// ModnetSource is also the default [GoModSource] of the module graph: it
// reads go.mod files from the module cache of the Client's environment
// and, online, fetches them with the Client. It keeps the go.mod files it
// read for every module checked with it, so that the graphs of sibling
// modules, which share most of their dependencies, read each one once.
//
// The zero ModnetSource uses a Client for the process environment.
type ModnetSource struct {
	// Client fetches module information. Nil means a zero modnet.Client,
	// which loads the environment as the go command does.
	Client *modnet.Client

	mu     sync.Mutex
	client *modnet.Client
	latest map[string]*latestInfo

	cacheOnce sync.Once
	cache     *modnet.Cache
	cacheErr  error

	graphs graphLoaders
}

// loaders returns the graph loaders shared by everything checked with s.
func (s *ModnetSource) loaders() *graphLoaders { return &s.graphs }

// CachedGoMod implements [GoModSource]: the go.mod in the module cache the
// Client uses (its Cache, else the one its Env names, else the one the
// process environment names). The file is not verified again: the go
// command or modnet verified it before storing it, and the checks only
// read the requirements.
func (s *ModnetSource) CachedGoMod(path, version string) ([]byte, error) {
	s.cacheOnce.Do(func() {
		c := s.theClient()
		if s.cache = c.Cache; s.cache != nil {
			return
		}
		env := c.Env
		if env == nil {
			if env, s.cacheErr = modnet.LoadEnv(); s.cacheErr != nil {
				return
			}
		}
		s.cache, s.cacheErr = modnet.NewCache(env)
	})
	if s.cacheErr != nil {
		return nil, s.cacheErr
	}
	data, _, err := s.cache.ReadGoMod(module.Version{Path: path, Version: version})
	return data, err
}

// GoMod implements [GoModSource] with [modnet.Client.GoMod]: along the
// module's route (GOPROXY, GONOPROXY, GOPRIVATE, direct), verified against
// the checksum database, stored in the module cache.
func (s *ModnetSource) GoMod(ctx context.Context, path, version string) ([]byte, error) {
	return s.theClient().GoMod(ctx, path, version)
}

// theClient returns the Client, creating a zero one on first use.
func (s *ModnetSource) theClient() *modnet.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		s.client = s.Client
		if s.client == nil {
			s.client = &modnet.Client{}
		}
	}
	return s.client
}

// latestInfo is what the latest version's go.mod says about its module.
type latestInfo struct {
	done chan struct{}
	rs   *modnet.Retractions
	err  error
}

// Retraction implements [ModuleInfoSource].
func (s *ModnetSource) Retraction(ctx context.Context, path, version string) (bool, string, error) {
	info := s.lookup(ctx, path)
	if info.err != nil {
		return false, "", info.err
	}
	retracted, why := info.rs.Retracted(version)
	return retracted, why, nil
}

// Deprecation implements [ModuleInfoSource].
func (s *ModnetSource) Deprecation(ctx context.Context, path string) (string, error) {
	info := s.lookup(ctx, path)
	if info.err != nil {
		return "", info.err
	}
	return info.rs.Deprecated, nil
}

// lookup asks the Client once per module; concurrent callers wait for the
// first.
func (s *ModnetSource) lookup(ctx context.Context, path string) *latestInfo {
	client := s.theClient()
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
	info.rs, info.err = client.Retractions(ctx, path)
	return info
}
