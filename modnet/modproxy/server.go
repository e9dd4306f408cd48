package modproxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/sync/singleflight"

	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/retry"
)

// A Server is a module proxy: an http.Handler serving the GOPROXY protocol
// (<module>/@v/list, .info, .mod, .zip, <module>/@latest), the checksum
// databases in SumDBs under /sumdb/<name>/, and /healthz. See the package
// documentation for what each request costs upstream.
//
// Module files are served from Store, and fetched through Client and
// stored on a miss. Version lists and @latest are asked upstream every
// time; when that fails for any reason but "not found", the last good
// answer is served with a Warning header (stale-on-error). Concurrent
// requests that need the same upstream fetch share it, and a fetch whose
// requesters all gave up still completes (until Close), so the next
// request finds its result stored.
//
// The zero Server serves the process environment's modules, unverified,
// kept in memory. Set the fields before the first request; they must not
// change afterwards. Close stops what runs in the background.
type Server struct {
	// Client fetches what the server does not have; its route decides
	// where each module comes from (GOPROXY, GONOPROXY and GOPRIVATE
	// direct, GOAUTH credentials). nil means a zero modnet.Client, which
	// loads the process environment.
	Client *modnet.Client

	// Verify makes the server verify every go.mod and zip before serving
	// it (against Client.GoSum and the checksum database, as the route
	// says), keeping them in the Client's module cache: for a proxy whose
	// clients may not verify. Otherwise files are passed through as the
	// route serves them, checked only for being complete, and the Client's
	// module cache is used only for direct mode's repositories and .info
	// files: for clients that verify what they receive, as the go command
	// does, which then fail, or fall back, exactly as they would without
	// the server.
	Verify bool

	// Store keeps what the server has fetched. nil means memory, for tests
	// and short-lived servers.
	Store Store

	// TempDir is where unverified zips are downloaded before they are
	// stored; "" means os.TempDir(). On the file system of a DiskStore,
	// zips are linked into it rather than copied.
	TempDir string

	// Prefix, if not empty, is a path prefix such as "/Xz41...": requests
	// that do not start with it are answered 404 without another look, and
	// the rest of the path is served. modfetch exec and serve give an
	// unguessable one, because any local user can reach a loopback port
	// and the server fetches with its user's credentials. It is never
	// logged.
	Prefix string

	// SumDBs are the checksum databases proxied, by name, such as the
	// [modnet.SumDB] of [modnet.Client.SumDB].
	SumDBs map[string]ChecksumDB

	// SumDBLatestMaxAge is how long a database's signed tree head is
	// served without asking upstream again. Zero means one minute.
	SumDBLatestMaxAge time.Duration

	// TimeoutNotFound answers an upstream timeout with 404 and
	// Cache-Control: no-store, as goproxy does, so that a go command with
	// GOPROXY=<this>,direct moves on. Otherwise a timeout is a failure
	// like any other.
	TimeoutNotFound bool

	// ReadAhead, if not nil, turns read-ahead on (see [ReadAhead]).
	ReadAhead *ReadAhead

	// Logger receives one record per request and the failures behind
	// them; nil means slog.Default(). Request headers (which may carry
	// credentials) and the Prefix are never logged.
	Logger *slog.Logger

	// OnAnswer, if set, is called after each request is answered; it may
	// be called concurrently.
	OnAnswer func(Answer)

	once   sync.Once
	up     upstream // the Client, or a test's fake
	store  Store
	base   context.Context // canceled by Close
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	bg     sync.WaitGroup // background work, see Server.work
	fills  singleflight.Group
	zipMu  sync.Mutex
	zips   map[string]*zipFill // zips in flight, unless Verify (see startZip)
	ahead  readAhead
	now    func() time.Time // time.Now, or a test's clock
	// joined, if set, is called when a request has joined the fill for
	// key, for tests that line requests up behind one fetch.
	joined func(key string)
}

// An Answer describes one request the server answered, for logs and
// summaries.
type Answer struct {
	Method string
	Path   string // the request's path after the Prefix
	// Status is the status sent, or 502 for a zip whose response was
	// broken off after its start because upstream failed (see Err).
	Status int
	Bytes  int64 // body bytes sent
	// From says where the body came from: "store" (kept from an earlier
	// request), "read-ahead" (kept from a fetch ahead of this request),
	// "upstream" (fetched for this request, or shared with one), "stale"
	// (the last good answer, upstream failing) or "" (an error or a local
	// answer).
	From    string
	Elapsed time.Duration
	// Err is the upstream failure behind a 404 or 5xx answer, if any.
	Err error
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

func (s *Server) init() {
	s.once.Do(func() {
		if s.up == nil {
			c := s.Client
			if c == nil {
				c = &modnet.Client{}
			}
			s.up = clientUpstream{c: c, verify: s.Verify}
		}
		s.store = s.Store
		if s.store == nil {
			s.store = &memStore{m: make(map[string]memObject)}
		}
		s.base, s.cancel = context.WithCancel(context.Background())
	})
}

// Close stops the server's background work (read-ahead, fetches whose
// requesters gave up) and waits for it to end. It does not close the
// Client or shut down an http.Server the Server is the handler of; do
// that first, so that no request arrives after Close.
func (s *Server) Close() error {
	s.init()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.bg.Wait()
	return nil
}

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
	s.init()
	start := s.clock()
	p, ok := s.strip(r.URL.Path)
	rec := &recorder{ResponseWriter: w}
	defer func() {
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelWarn
		}
		logged := p
		if !ok {
			logged = "(outside the prefix)"
		}
		elapsed := s.clock().Sub(start)
		s.logger().LogAttrs(r.Context(), level, "request",
			slog.String("method", r.Method), slog.String("path", logged),
			slog.Int("status", rec.status), slog.Int64("bytes", rec.bytes),
			slog.Duration("duration", elapsed), slog.String("remote", r.RemoteAddr))
		if s.OnAnswer != nil {
			s.OnAnswer(Answer{Method: r.Method, Path: logged, Status: rec.status, Bytes: rec.bytes,
				From: rec.from, Elapsed: elapsed, Err: rec.err})
		}
	}()

	if !ok {
		respond(rec, r, http.StatusNotFound, cacheNever, "not found")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		rec.Header().Set("Allow", "GET, HEAD")
		respond(rec, r, http.StatusMethodNotAllowed, cacheNever, "method not allowed")
		return
	}
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

// strip removes the Prefix from a request path, comparing in constant
// time so that answers do not reveal how much of a guess was right.
func (s *Server) strip(p string) (string, bool) {
	if s.Prefix == "" {
		return p, true
	}
	n := len(s.Prefix)
	if len(p) < n || subtle.ConstantTimeCompare([]byte(p[:n]), []byte(s.Prefix)) != 1 {
		return "", false
	}
	if rest := p[n:]; rest == "" || rest[0] == '/' {
		return rest, true
	}
	return "", false
}

// serveHealth answers 200 while the store can be reached.
func (s *Server) serveHealth(w *recorder, r *http.Request) {
	if _, err := s.store.Stat(r.Context(), "healthz"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.logger().Error("store unavailable", "error", err)
		respond(w, r, http.StatusServiceUnavailable, cacheNever, "store unavailable")
		return
	}
	respond(w, r, http.StatusOK, cacheNever, "ok")
}

// serveModule answers <escaped path>/@v/list, /@latest and /@v/<version>.ext.
func (s *Server) serveModule(w *recorder, r *http.Request, target string) {
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
		s.serveVersionFile(w, r, module.Version{Path: modPath, Version: version}, ext)
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

// fileKey is the store key of a module version's .info, .mod or .zip.
func fileKey(mod module.Version, ext string) (string, error) {
	escPath, err := module.EscapePath(mod.Path)
	if err != nil {
		return "", err
	}
	escVersion, err := module.EscapeVersion(mod.Version)
	if err != nil {
		return "", err
	}
	return escPath + "/@v/" + escVersion + ext, nil
}

// serveVersionFile answers a module version's .info, .mod or .zip from the
// store, fetching it on a miss with the one upstream operation it needs.
func (s *Server) serveVersionFile(w *recorder, r *http.Request, mod module.Version, ext string) {
	key, err := fileKey(mod, ext)
	if err != nil {
		respond(w, r, http.StatusNotFound, cacheNotFound, "not found: "+err.Error())
		return
	}
	s.ahead.askedFor(s, ext)
	from := func(missed string) string {
		if s.ahead.fetched(key) {
			return "read-ahead"
		}
		return missed
	}
	if !s.serveStored(w, r, key, contentType(ext), cacheImmutable, from("store")) {
		if ext == ".zip" && !s.Verify {
			s.serveZipFill(w, r, mod, key)
			return
		}
		if err := s.fetchFile(r.Context(), mod, ext, key, false); err != nil {
			s.fail(w, r, err)
			return
		}
		// A request that joined a fetch ahead is answered from read-ahead.
		if !s.serveStored(w, r, key, contentType(ext), cacheImmutable, from("upstream")) {
			s.fail(w, r, &storeError{fmt.Errorf("%s vanished from the store after it was filled", key)})
			return
		}
	}
	if ext == ".mod" {
		s.ahead.requirements(s, key)
	}
}

// serveZipFill answers a request for mod's zip, which is not stored, from
// the fill that fetches it: streamed as it arrives when the request is a
// plain GET, else once it is stored.
func (s *Server) serveZipFill(w *recorder, r *http.Request, mod module.Version, key string) {
	z := s.startZip(r.Context(), mod, key, false)
	if s.joined != nil {
		s.joined("file\x00" + key)
	}
	from := "upstream"
	if z.ahead {
		from = "read-ahead"
	}
	if streamable(r) && s.serveZip(w, r, z, key, from) {
		return
	}
	if err := waitZip(r.Context(), z); err != nil {
		s.fail(w, r, err)
		return
	}
	if s.ahead.fetched(key) {
		from = "read-ahead"
	}
	if !s.serveStored(w, r, key, typeZip, cacheImmutable, from) {
		s.fail(w, r, &storeError{fmt.Errorf("%s vanished from the store after it was filled", key)})
	}
}

// fetchFile fills the store's key with mod's file, fetched once however
// many requests (and fetches ahead) ask at the same time; ahead says the
// caller is read-ahead, which the file is then marked as filled by, if
// its fetch is the one that runs, before anyone waiting is told.
func (s *Server) fetchFile(ctx context.Context, mod module.Version, ext, key string, ahead bool) error {
	if ext == ".zip" && !s.Verify {
		return waitZip(ctx, s.startZip(ctx, mod, key, ahead))
	}
	_, err := s.fill(ctx, "file\x00"+key, s.fileFetch(mod, ext, key, ahead))
	return err
}

// fileFetch is the fill of fetchFile.
func (s *Server) fileFetch(mod module.Version, ext, key string, ahead bool) func(context.Context) (any, error) {
	return func(ctx context.Context) (any, error) {
		// Another instance sharing the store may have been first.
		if _, err := s.store.Stat(ctx, key); err == nil {
			return nil, nil
		}
		if err := s.fetchUpstream(ctx, mod, ext, key); err != nil {
			return nil, err
		}
		if ahead {
			s.ahead.filled.Store(key, true)
		}
		return nil, nil
	}
}

// StartFetch starts fetching mod's file (ext ".info", ".mod" or ".zip")
// into the store at once, in the background, whether or not ReadAhead is
// set and outside its queue and limits; for a zip it also fetches the
// record of mod in each checksum database in SumDBs, when its route
// consults the database (for a toolchain, always: Env.Route applies the
// go command's rule), which a client verifying the zip reads. A request
// for the file that arrives from now on waits for this fetch rather than
// starting another, and is counted as answered from read-ahead. The channel returned receives the file's fetch error (nil
// when it is stored, or was already) once the fetches are over. modfetch
// exec starts this way the toolchain the go command is about to switch
// to, before the go command runs: one large download it would otherwise
// wait on first.
func (s *Server) StartFetch(mod module.Version, ext string) <-chan error {
	s.init()
	done := make(chan error, 1)
	if !validFile(aheadKey{mod, ext}) {
		done <- fmt.Errorf("modproxy: fetch %s%s: not a module file the protocol has", mod, ext)
		return done
	}
	key, _ := fileKey(mod, ext)
	var file <-chan error
	if ext == ".zip" && !s.Verify {
		z := s.startZip(context.Background(), mod, key, true)
		file = z.result()
	} else {
		ch := s.startFill(context.Background(), "file\x00"+key, s.fileFetch(mod, ext, key, true))
		file = fillResult(ch)
	}
	var lookups []<-chan singleflight.Result
	if ext == ".zip" && s.up.ChecksumDB(mod.Path) {
		for _, name := range slices.Sorted(maps.Keys(s.SumDBs)) {
			if l := s.startLookup(name, mod); l != nil {
				lookups = append(lookups, l)
			}
		}
	}
	go func() {
		err := <-file
		for _, l := range lookups {
			<-l // failures are the request's to retry
		}
		done <- err
	}()
	return done
}

// fetchUpstream fetches mod's file with the one upstream operation it
// needs and stores it under key. The duration of a go.mod or .info fetch
// is the upstream round trip read-ahead adapts to.
func (s *Server) fetchUpstream(ctx context.Context, mod module.Version, ext, key string) error {
	start := time.Now()
	switch ext {
	case ".info":
		info, err := s.up.Query(ctx, mod.Path, mod.Version)
		if err != nil {
			return err
		}
		s.ahead.observe(s, time.Since(start))
		if info.Version != mod.Version {
			return fmt.Errorf("%s: upstream answered for version %s", mod, info.Version)
		}
		return s.put(ctx, key, bytes.NewReader(infoJSON(info)))
	case ".mod":
		data, err := s.up.GoMod(ctx, mod.Path, mod.Version)
		if err != nil {
			return err
		}
		s.ahead.observe(s, time.Since(start))
		return s.put(ctx, key, bytes.NewReader(data))
	default: // a zip, verified (see startZip for the others)
		f, release, err := s.up.Zip(ctx, mod.Path, mod.Version)
		if err != nil {
			return err
		}
		defer release()
		return s.put(ctx, key, f)
	}
}

// serveQuery answers a version query's .info, such as a branch name.
func (s *Server) serveQuery(w *recorder, r *http.Request, modPath, query string) {
	v, err := s.fill(r.Context(), "query\x00"+modPath+"@"+query, func(ctx context.Context) (any, error) {
		info, err := s.up.Query(ctx, modPath, query)
		if err != nil {
			return nil, err
		}
		return infoJSON(info), nil
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.from = "upstream"
	serveBytes(w, r, v.([]byte), typeJSON, cacheVolatile)
}

// serveList answers <module>/@v/list: the tagged versions, one per line,
// as the route's first source with a list has them. Retracted versions
// are listed, as the Go module mirror lists them: the go command reads the
// retractions itself, and needs the retracted versions listed to report
// them (go list -m -retracted -versions; go list -m -u marks a retracted
// current version).
func (s *Server) serveList(w *recorder, r *http.Request, modPath, key string) {
	s.serveVolatile(w, r, key, typeText, cacheVolatile, func(ctx context.Context) ([]byte, error) {
		versions, err := s.up.List(ctx, modPath)
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

// serveLatest answers <module>/@latest: the .info of the version the
// "latest" query selects.
func (s *Server) serveLatest(w *recorder, r *http.Request, modPath, key string) {
	s.serveVolatile(w, r, key, typeJSON, cacheVolatile, func(ctx context.Context) ([]byte, error) {
		info, err := s.up.Query(ctx, modPath, "latest")
		if err != nil {
			return nil, err
		}
		return infoJSON(info), nil
	})
}

// serveVolatile answers with a fresh answer from upstream, remembering it
// under key; if upstream fails for any reason but "not found", it answers
// with the last good answer instead.
func (s *Server) serveVolatile(w *recorder, r *http.Request, key, ctype, cacheControl string, fetch func(context.Context) ([]byte, error)) {
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
		w.from = "upstream"
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
func (s *Server) serveStale(w *recorder, r *http.Request, key, ctype string, cause error) bool {
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
	w.from, w.err = "stale", cause
	http.ServeContent(w, r, "", oi.ModTime, f)
	return true
}

// stored opens the object under key. A store failure other than a missing
// key is logged and treated as a miss, so that the proxy keeps working
// from upstream.
func (s *Server) stored(ctx context.Context, key string) (io.ReadSeekCloser, ObjectInfo, bool) {
	f, oi, err := s.store.Get(ctx, key)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.logger().Error("reading store", "key", key, "error", err)
		}
		return nil, ObjectInfo{}, false
	}
	return f, oi, true
}

// serveStored answers from the store and reports whether key was there.
func (s *Server) serveStored(w *recorder, r *http.Request, key, ctype, cacheControl, from string) bool {
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
	w.from = from
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
// fetch runs without the first requester's cancellation, until the server
// closes; a requester that gives up returns at once.
func (s *Server) fill(ctx context.Context, key string, fetch func(context.Context) (any, error)) (any, error) {
	ch := s.startFill(ctx, key, fetch)
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

// startFill starts fetch for key, unless a fetch for key is running, and
// returns the channel its result arrives on.
func (s *Server) startFill(ctx context.Context, key string, fetch func(context.Context) (any, error)) <-chan singleflight.Result {
	return s.fills.DoChan(key, func() (any, error) {
		fctx, end, err := s.work(ctx)
		if err != nil {
			return nil, err
		}
		defer end()
		return fetch(fctx)
	})
}

// work starts background work on behalf of ctx: it returns a context
// with ctx's values but not its cancellation, canceled when the server
// closes, and end, to call when the work is over; Close waits for every
// end. It fails once the server is closed.
func (s *Server) work(ctx context.Context) (wctx context.Context, end func(), err error) {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil, errClosed
	}
	s.bg.Add(1)
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(s.base, cancel)
	return wctx, func() {
		stop()
		cancel()
		s.bg.Done()
	}, nil
}

// errClosed is the failure of work asked of a closed server.
var errClosed = errors.New("modproxy: server closed")

// put stores r under key; its failure is the proxy's, not upstream's.
func (s *Server) put(ctx context.Context, key string, r io.Reader) error {
	if err := s.store.Put(ctx, key, r); err != nil {
		return &storeError{fmt.Errorf("storing %s: %w", key, err)}
	}
	return nil
}

// storeError is a failure of the Store, answered with 500.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

// fail answers an error: "not found" with 404, a failure of the store with
// 500, an upstream's refusal with its own status, anything else upstream
// with 502 and modkit's explanation.
func (s *Server) fail(w *recorder, r *http.Request, err error) {
	var se *storeError
	w.err = err
	refused := refusedStatus(err)
	switch {
	case r.Context().Err() != nil:
		// The client is gone; nobody reads the answer.
		return
	case errors.As(err, &se):
		s.logger().Error("store failure", "error", err)
		respond(w, r, http.StatusInternalServerError, cacheNever, "internal server error")
	case errors.Is(err, fs.ErrNotExist):
		respond(w, r, http.StatusNotFound, cacheNotFound, notFoundText(err.Error()))
	case refused != 0:
		// The upstream's own answer, not a failure of the path to it: the
		// client gets it as it would from the upstream, and falls back or
		// fails on it as it would there. The go command, asking for every
		// prefix of an import path, reads such answers for the prefixes that
		// are no module (a proxy may refuse github.com/org with 403).
		s.logger().Info("upstream refused", "error", err)
		respond(w, r, refused, cacheNever, "upstream refused: "+err.Error())
	case s.TimeoutNotFound && isTimeout(err):
		s.logger().Warn("upstream timed out", "error", err)
		respond(w, r, http.StatusNotFound, cacheNever, notFoundText("fetch timed out: "+err.Error()))
	default:
		s.logger().Warn("upstream failed", "error", err)
		respond(w, r, http.StatusBadGateway, cacheNever, failureText(err))
	}
}

// refusedStatus returns the status of an upstream's definite refusal: a
// 4xx answer other than "not found" (404, 410, answered as such) and "too
// many requests" (429, retried, so a failure when it persists); 0 for
// anything else.
func refusedStatus(err error) int {
	var re *retry.Error
	if errors.As(err, &re) && re.StatusCode >= 400 && re.StatusCode < 500 && re.StatusCode != http.StatusTooManyRequests {
		return re.StatusCode
	}
	return 0
}

func notFoundText(msg string) string {
	if strings.HasPrefix(msg, "not found") {
		return msg
	}
	return "not found: " + msg
}

// failureText is the body of a 502: what failed upstream, with its class
// when a request failed, such as "upstream failed (reset): example.com/m@v1.0.0:
// Get ...: connection reset by peer (modkit: 10 attempts in 12.5s)".
func failureText(err error) string {
	var re *retry.Error
	if errors.As(err, &re) {
		return fmt.Sprintf("upstream failed (%s): %v", re.Class, err)
	}
	return "upstream failed: " + err.Error()
}

// isTimeout decides "timeout" as goproxy does (error.go,
// isFetchTimedOutError): the error matches context.DeadlineExceeded, or an
// error in its chain has a Timeout method reporting true; modnet reports
// a request that timed out after its retries as a *retry.Error of class
// Timeout.
func isTimeout(err error) bool {
	var re *retry.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &re) && re.Class == retry.Timeout) {
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

// infoJSON is a .info file as the go command writes it
// (cmd/go/internal/modfetch.RevInfo): Version, Time and, for a version
// resolved from a repository, Origin.
func infoJSON(info *modnet.Info) []byte {
	b, _ := json.Marshal(info)
	return append(b, '\n')
}

// etag returns a strong entity tag for the content identified by s.
func etag(s string) string {
	sum := sha256.Sum256([]byte(s))
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}

// recorder notes the status and size of an answer for the request log,
// and where its body came from.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	from   string
	err    error
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
