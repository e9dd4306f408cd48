package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/sync/singleflight"
)

// Fetcher fetches modules from upstream. Its method set is that of the
// Fetcher interface of github.com/goproxy/goproxy, which
// *modnet.Fetcher satisfies; errors matching fs.ErrNotExist mean "not
// found", and timeouts are recognised as goproxy recognises them.
type Fetcher interface {
	Query(ctx context.Context, path, query string) (version string, time time.Time, err error)
	List(ctx context.Context, path string) (versions []string, err error)
	Download(ctx context.Context, path, version string) (info, mod, zip io.ReadSeekCloser, err error)
}

// ChecksumDB reads an upstream checksum database, as *modnet.SumDB does:
// path is "/latest", "/lookup/..." or "/tile/...", and "not found"
// answers match fs.ErrNotExist.
type ChecksumDB interface {
	ReadRemote(ctx context.Context, path string) ([]byte, error)
}

// Server is a caching module proxy: an http.Handler serving the GOPROXY
// protocol (<module>/@v/list, .info, .mod, .zip, <module>/@latest), the
// checksum databases in SumDBs under /sumdb/<name>/, and /healthz.
//
// Module files are served from Store, and fetched from Fetcher and stored
// on a miss. Version lists and @latest are asked upstream every time; when
// that fails for any reason but "not found", the last good answer is served
// with a Warning header (stale-on-error). Concurrent requests that need the
// same upstream fetch share it, and a fetch whose requesters all gave up
// still completes, so the next request finds its result stored.
//
// Errors are answered as goproxy answers them: "not found" with 404, a
// timeout with 404 and Cache-Control: no-store, so that a go command with
// GOPROXY=<this>,direct moves on; other upstream failures with 502 and the
// error, which the go command prints as the server's response.
type Server struct {
	Fetcher Fetcher
	Store   Store
	// SumDBs are the checksum databases proxied, by name.
	SumDBs map[string]ChecksumDB
	// SumDBLatestMaxAge is how long a database's signed tree head is
	// served without asking upstream again. Zero means one minute.
	SumDBLatestMaxAge time.Duration
	// Logger receives one record per request and the failures behind
	// them; nil means slog.Default(). Request headers (which may carry
	// credentials) are never logged.
	Logger *slog.Logger

	fills singleflight.Group
	now   func() time.Time // time.Now, or a test's clock
	// joined, if set, is called when a request has joined the fill for
	// key, for tests that line requests up behind one fetch.
	joined func(key string)
}

// Cache-Control values. Module versions never change, so their files are
// cacheable for long; lists and queries change when versions are
// published; failures must not be cached beyond a short while.
const (
	cacheImmutable = "public, max-age=604800"
	cacheVolatile  = "public, max-age=60"
	cacheNotFound  = "public, max-age=60"
	cacheLookup    = "public, max-age=86400"
	cacheNever     = "no-store"
)

// Content types of the protocol's files.
const (
	typeJSON   = "application/json"
	typeText   = "text/plain; charset=utf-8"
	typeZip    = "application/zip"
	typeBinary = "application/octet-stream"
)

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Server) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// ServeHTTP answers one request and logs it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.clock()
	rec := &recorder{ResponseWriter: w}
	defer func() {
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelWarn
		}
		s.logger().LogAttrs(r.Context(), level, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", s.clock().Sub(start)), slog.String("remote", r.RemoteAddr))
	}()

	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		rec.Header().Set("Allow", "GET, HEAD")
		respond(rec, r, http.StatusMethodNotAllowed, cacheNever, "method not allowed")
		return
	}
	p := r.URL.Path
	if p == "" || p[0] != '/' || path.Clean(p) != p {
		respond(rec, r, http.StatusNotFound, cacheNotFound, "not found: unclean path")
		return
	}
	switch {
	case p == "/healthz":
		s.serveHealth(rec, r)
	case strings.HasPrefix(p, "/sumdb/"):
		s.serveSumDB(rec, r, strings.TrimPrefix(p, "/sumdb/"))
	default:
		s.serveModule(rec, r, strings.TrimPrefix(p, "/"))
	}
}

// serveHealth answers 200 while the store can be reached.
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	if _, err := s.Store.Stat(r.Context(), "healthz"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.logger().Error("store unavailable", "error", err)
		respond(w, r, http.StatusServiceUnavailable, cacheNever, "store unavailable")
		return
	}
	respond(w, r, http.StatusOK, cacheNever, "ok")
}

// serveModule answers <escaped path>/@v/list, /@latest and /@v/<version>.ext.
func (s *Server) serveModule(w http.ResponseWriter, r *http.Request, target string) {
	escPath, rest, ok := strings.Cut(target, "/@")
	if !ok {
		respond(w, r, http.StatusNotFound, cacheNotFound, "not found: missing /@v/ or /@latest")
		return
	}
	modPath, err := module.UnescapePath(escPath)
	if err != nil {
		respond(w, r, http.StatusNotFound, cacheNotFound, "not found: "+err.Error())
		return
	}
	switch rest {
	case "latest":
		s.serveLatest(w, r, modPath, escPath+"/@latest")
		return
	case "v/list":
		s.serveList(w, r, modPath, escPath+"/@v/list")
		return
	}
	file, ok := strings.CutPrefix(rest, "v/")
	ext := path.Ext(file)
	if !ok || strings.Contains(file, "/") || (ext != ".info" && ext != ".mod" && ext != ".zip") {
		respond(w, r, http.StatusNotFound, cacheNotFound, "not found: unknown file "+strconv.Quote("@"+rest))
		return
	}
	version, err := module.UnescapeVersion(strings.TrimSuffix(file, ext))
	if err != nil {
		respond(w, r, http.StatusNotFound, cacheNotFound, "not found: "+err.Error())
		return
	}
	if module.CanonicalVersion(version) == version && module.Check(modPath, version) == nil {
		s.serveVersionFile(w, r, modPath, version, escPath+"/@v/"+file)
		return
	}
	if ext == ".info" {
		// A query such as a branch name, which the go command resolves
		// through the proxy (cmd/go/internal/modfetch.proxyRepo.Stat).
		s.serveQuery(w, r, modPath, version)
		return
	}
	respond(w, r, http.StatusNotFound, cacheNotFound,
		fmt.Sprintf("not found: %s@%s: only canonical versions have .mod and .zip files", modPath, version))
}

// serveVersionFile answers a module version's .info, .mod or .zip from the
// store, filling it on a miss: .info alone through Query, which costs one
// small request; .mod and .zip together through Download.
func (s *Server) serveVersionFile(w http.ResponseWriter, r *http.Request, modPath, version, key string) {
	ctx := r.Context()
	ext := path.Ext(key)
	if s.serveStored(w, r, key, contentType(ext), cacheImmutable) {
		return
	}
	base := strings.TrimSuffix(key, ext)
	var err error
	if ext == ".info" {
		_, err = s.fill(ctx, "info\x00"+key, func(ctx context.Context) (any, error) {
			v, t, err := s.Fetcher.Query(ctx, modPath, version)
			if err != nil {
				return nil, err
			}
			if v != version {
				return nil, fmt.Errorf("%s@%s: upstream answered for version %s", modPath, version, v)
			}
			return nil, s.put(ctx, key, bytes.NewReader(infoJSON(v, t)))
		})
	} else {
		_, err = s.fill(ctx, "download\x00"+base, func(ctx context.Context) (any, error) {
			info, mod, zip, err := s.Fetcher.Download(ctx, modPath, version)
			if err != nil {
				return nil, err
			}
			defer info.Close()
			defer mod.Close()
			defer zip.Close()
			for _, f := range []struct {
				ext string
				r   io.Reader
			}{{".info", info}, {".mod", mod}, {".zip", zip}} {
				// Another instance sharing the store may have been first.
				if _, err := s.Store.Stat(ctx, base+f.ext); err == nil {
					continue
				}
				if err := s.put(ctx, base+f.ext, f.r); err != nil {
					return nil, err
				}
			}
			return nil, nil
		})
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !s.serveStored(w, r, key, contentType(ext), cacheImmutable) {
		s.fail(w, r, &storeError{fmt.Errorf("%s vanished from the store after it was filled", key)})
	}
}

// serveQuery answers a version query's .info, such as a branch name.
func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request, modPath, query string) {
	v, err := s.fill(r.Context(), "query\x00"+modPath+"@"+query, func(ctx context.Context) (any, error) {
		v, t, err := s.Fetcher.Query(ctx, modPath, query)
		if err != nil {
			return nil, err
		}
		return infoJSON(v, t), nil
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	serveBytes(w, r, v.([]byte), typeJSON, cacheVolatile)
}

// serveList answers <module>/@v/list: the tagged versions, one per line.
func (s *Server) serveList(w http.ResponseWriter, r *http.Request, modPath, key string) {
	s.serveVolatile(w, r, key, typeText, cacheVolatile, func(ctx context.Context) ([]byte, error) {
		versions, err := s.Fetcher.List(ctx, modPath)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		for _, v := range versions {
			b.WriteString(v + "\n")
		}
		return b.Bytes(), nil
	})
}

// serveLatest answers <module>/@latest: the .info of the latest version.
func (s *Server) serveLatest(w http.ResponseWriter, r *http.Request, modPath, key string) {
	s.serveVolatile(w, r, key, typeJSON, cacheVolatile, func(ctx context.Context) ([]byte, error) {
		v, t, err := s.Fetcher.Query(ctx, modPath, "latest")
		if err != nil {
			return nil, err
		}
		return infoJSON(v, t), nil
	})
}

// serveVolatile answers with a fresh answer from upstream, remembering it
// under key; if upstream fails for any reason but "not found", it answers
// with the last good answer instead.
func (s *Server) serveVolatile(w http.ResponseWriter, r *http.Request, key, ctype, cacheControl string, fetch func(context.Context) ([]byte, error)) {
	v, err := s.fill(r.Context(), "volatile\x00"+key, func(ctx context.Context) (any, error) {
		body, err := fetch(ctx)
		if err != nil {
			return nil, err
		}
		// The answer is good even if it cannot be remembered.
		if err := s.put(ctx, key, bytes.NewReader(body)); err != nil {
			s.logger().Error("remembering answer", "key", key, "error", err)
		}
		return body, nil
	})
	if err == nil {
		serveBytes(w, r, v.([]byte), ctype, cacheControl)
		return
	}
	if !errors.Is(err, fs.ErrNotExist) && r.Context().Err() == nil && s.serveStale(w, r, key, ctype, err) {
		return
	}
	s.fail(w, r, err)
}

// serveStale answers with the last good answer stored under key, marked
// stale, and reports whether there was one.
func (s *Server) serveStale(w http.ResponseWriter, r *http.Request, key, ctype string, cause error) bool {
	f, oi, ok := s.stored(r.Context(), key)
	if !ok {
		return false
	}
	defer f.Close()
	age := max(s.clock().Sub(oi.ModTime), 0)
	s.logger().Warn("upstream failed; serving last good answer", "key", key,
		"age", age.Round(time.Second), "error", cause)
	h := w.Header()
	// RFC 9111 obsoleted Warning, but caches and people still read it;
	// Age says how old the answer is.
	h.Set("Warning", `110 - "Response is Stale"`)
	h.Set("Age", strconv.FormatInt(int64(age/time.Second), 10))
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", cacheNever)
	http.ServeContent(w, r, "", oi.ModTime, f)
	return true
}

// stored opens the object under key. A store failure other than a missing
// key is logged and treated as a miss, so that the proxy keeps working
// from upstream.
func (s *Server) stored(ctx context.Context, key string) (io.ReadSeekCloser, ObjectInfo, bool) {
	f, oi, err := s.Store.Get(ctx, key)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.logger().Error("reading store", "key", key, "error", err)
		}
		return nil, ObjectInfo{}, false
	}
	return f, oi, true
}

// serveStored answers from the store and reports whether key was there.
func (s *Server) serveStored(w http.ResponseWriter, r *http.Request, key, ctype, cacheControl string) bool {
	f, oi, ok := s.stored(r.Context(), key)
	if !ok {
		return false
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", cacheControl)
	// The content under an immutable key never changes, so the key names
	// it: every instance sharing a store gives the same ETag, and no byte
	// needs to be read to compute it.
	h.Set("ETag", etag(key+"\x00"+strconv.FormatInt(oi.Size, 10)))
	http.ServeContent(w, r, "", oi.ModTime, f)
	return true
}

// serveBytes answers with an in-memory body, with an ETag of its content.
func serveBytes(w http.ResponseWriter, r *http.Request, body []byte, ctype, cacheControl string) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", etag(string(body)))
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// fill runs fetch once for all concurrent requests with the same key. The
// fetch runs without the first requester's cancellation; a requester that
// gives up returns at once.
func (s *Server) fill(ctx context.Context, key string, fetch func(context.Context) (any, error)) (any, error) {
	ch := s.fills.DoChan(key, func() (any, error) { return fetch(context.WithoutCancel(ctx)) })
	if s.joined != nil {
		s.joined(key)
	}
	select {
	case res := <-ch:
		return res.Val, res.Err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// put stores r under key; its failure is the proxy's, not upstream's.
func (s *Server) put(ctx context.Context, key string, r io.Reader) error {
	if err := s.Store.Put(ctx, key, r); err != nil {
		return &storeError{fmt.Errorf("storing %s: %w", key, err)}
	}
	return nil
}

// storeError is a failure of the Store, answered with 500.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// fail answers an error with goproxy's conventions (see [Server]).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var se *storeError
	switch {
	case r.Context().Err() != nil:
		// The client is gone; nobody reads the answer.
		return
	case errors.As(err, &se):
		s.logger().Error("store failure", "path", r.URL.Path, "error", err)
		respond(w, r, http.StatusInternalServerError, cacheNever, "internal server error")
	case errors.Is(err, fs.ErrNotExist):
		respond(w, r, http.StatusNotFound, cacheNotFound, notFoundText(err.Error()))
	case isTimeout(err):
		s.logger().Warn("upstream timed out", "path", r.URL.Path, "error", err)
		respond(w, r, http.StatusNotFound, cacheNever, notFoundText("fetch timed out: "+err.Error()))
	default:
		s.logger().Warn("upstream failed", "path", r.URL.Path, "error", err)
		respond(w, r, http.StatusBadGateway, cacheNever, "bad gateway: "+err.Error())
	}
}

func notFoundText(msg string) string {
	if strings.HasPrefix(msg, "not found") {
		return msg
	}
	return "not found: " + msg
}

// isTimeout decides "timeout" as goproxy does (error.go,
// isFetchTimedOutError): the error matches context.DeadlineExceeded, or an
// error in its chain has a Timeout method reporting true.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var t interface {
		error
		Timeout() bool
	}
	return errors.As(err, &t) && t.Timeout()
}

// respond answers with a short plain-text message, which the go command
// shows after "server response:".
func respond(w http.ResponseWriter, r *http.Request, code int, cacheControl, msg string) {
	h := w.Header()
	h.Set("Content-Type", typeText)
	h.Set("Cache-Control", cacheControl)
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	if r.Method != http.MethodHead && msg != "" {
		io.WriteString(w, msg+"\n")
	}
}

func contentType(ext string) string {
	switch ext {
	case ".info":
		return typeJSON
	case ".zip":
		return typeZip
	}
	return typeText
}

// infoJSON is a .info file: {"Version":...,"Time":...}.
func infoJSON(version string, t time.Time) []byte {
	b, _ := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, t.UTC()})
	return append(b, '\n')
}

// etag returns a strong entity tag for the content identified by s.
func etag(s string) string {
	sum := sha256.Sum256([]byte(s))
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}

// recorder notes the status and size of an answer for the request log.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

// ReadFrom keeps the underlying writer's io.ReaderFrom (sendfile for
// zips) working through the recorder.
func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := io.Copy(r.ResponseWriter, src)
	r.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
