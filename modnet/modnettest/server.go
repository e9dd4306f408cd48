package modnettest

import (
	"crypto/x509"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/semver"
)

// A Server is a Go module proxy (the GOPROXY protocol) listening on a
// loopback address, for tests. It serves in-memory modules and a directory
// in GOPROXY layout, hosts a checksum database for them, logs every request,
// and injects faults as configured with SetFaults.
//
// Configure the exported fields of an unstarted server (NewUnstartedServer)
// before calling Start or StartTLS; they must not change afterwards.
type Server struct {
	// URL is the base URL of the proxy, "http://127.0.0.1:port" (https for
	// StartTLS), without a trailing slash: the value for GOPROXY. It is set
	// by Start and StartTLS.
	URL string
	// Name labels the server in its request log, to tell stubs apart.
	Name string
	// Dir, if non-empty, is a directory in GOPROXY layout
	// (<escaped path>/@v/list, <escaped version>.info, .mod, .zip and
	// <escaped path>/@latest) served after the in-memory modules. A module
	// cache's cache/download directory has this layout. Files are read when
	// requested, as the go command reads a file:// proxy.
	Dir string
	// SumDBName names the checksum database; by default it is a name unique
	// to the server and the process, ending in ".modnettest.test".
	SumDBName string

	hs       *httptest.Server
	db       *SumDB
	closing  chan struct{}
	once     sync.Once
	handlers sync.WaitGroup

	mu       sync.Mutex
	mods     map[string]map[string]*builtModule // path → version → files
	faults   Faults
	counts   map[string]int // URL path → requests seen since SetFaults
	log      []*Request
	authUser string
	authPass string
	authOn   bool
}

// NewServer starts and returns a server for mods. It panics if a module is
// invalid (see [Module]) or if it cannot listen, as httptest.NewServer does.
// The caller should call Close when finished.
func NewServer(mods ...Module) *Server {
	s := NewUnstartedServer(mods...)
	s.Start()
	return s
}

// NewServerFromDir starts and returns a server for the GOPROXY-layout
// directory dir, for example a module cache's cache/download directory.
func NewServerFromDir(dir string) *Server {
	s := NewUnstartedServer()
	s.Dir = dir
	s.Start()
	return s
}

// NewUnstartedServer returns a server for mods that is not started yet, so
// that its fields can be set. It panics if a module is invalid.
func NewUnstartedServer(mods ...Module) *Server {
	s := &Server{
		closing: make(chan struct{}),
		mods:    make(map[string]map[string]*builtModule),
		counts:  make(map[string]int),
	}
	if err := s.Add(mods...); err != nil {
		panic(err)
	}
	s.hs = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	return s
}

// Start starts the server on plain HTTP.
func (s *Server) Start() { s.start("http", s.hs.Start) }

// StartTLS starts the server on HTTPS with a self-signed certificate for
// 127.0.0.1; use Client, or Certificate in a cert pool (or, for the go
// command, SSL_CERT_FILE), to trust it.
func (s *Server) StartTLS() { s.start("https", s.hs.StartTLS) }

func (s *Server) start(scheme string, start func()) {
	if s.db != nil {
		panic("modnettest: Server already started")
	}
	// The database must exist before the first request can arrive, and its
	// URL depends only on the address, which the listener already has.
	db, err := newSumDB(s.SumDBName, scheme+"://"+s.hs.Listener.Addr().String(), s.sumLines)
	if err != nil {
		panic(err)
	}
	s.db = db
	s.addRecords(s.allModules())
	start()
	s.URL = s.hs.URL
}

// Close shuts the server down. Stalled answers end at once; Close returns
// when every handler has returned.
func (s *Server) Close() {
	s.once.Do(func() { close(s.closing) })
	s.hs.Close()
	// httptest stops waiting for a connection once it is hijacked, which
	// aborted answers do; their handlers may still be finishing. No new
	// handler can start now that every other connection is closed.
	s.handlers.Wait()
}

// Client returns an HTTP client configured for the server, trusting its
// certificate after StartTLS.
func (s *Server) Client() *http.Client { return s.hs.Client() }

// Certificate returns the certificate used by a server started with
// StartTLS, or nil.
func (s *Server) Certificate() *x509.Certificate { return s.hs.Certificate() }

// SumDB returns the server's checksum database. It is nil before Start.
func (s *Server) SumDB() *SumDB { return s.db }

// Add serves more module versions, replacing ones with the same path and
// version. A started server's checksum database logs their go.sum lines at
// once; a replaced version keeps its first record, as a real checksum
// database would, so replacing content is a way to provoke a mismatch.
func (s *Server) Add(mods ...Module) error {
	built := make([]*builtModule, 0, len(mods))
	for _, m := range mods {
		b, err := m.build()
		if err != nil {
			return err
		}
		built = append(built, b)
	}
	s.mu.Lock()
	for _, b := range built {
		if s.mods[b.path] == nil {
			s.mods[b.path] = make(map[string]*builtModule)
		}
		s.mods[b.path][b.version] = b
	}
	s.mu.Unlock()
	if s.db != nil {
		s.addRecords(built)
	}
	return nil
}

func (s *Server) allModules() []*builtModule {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*builtModule
	for _, vs := range s.mods {
		for _, b := range vs {
			all = append(all, b)
		}
	}
	return all
}

// addRecords logs the modules in the checksum database in a fixed order, so
// record IDs do not depend on map order.
func (s *Server) addRecords(mods []*builtModule) {
	sort.Slice(mods, func(i, j int) bool {
		if mods[i].path != mods[j].path {
			return mods[i].path < mods[j].path
		}
		return mods[i].version < mods[j].version
	})
	for _, b := range mods {
		s.db.add(b.path, b.version)
	}
}

// RequireBasicAuth makes the server answer 401 to every request that does
// not carry these HTTP Basic credentials, for tests of .netrc and GOAUTH.
// Faults are applied before the credentials are checked.
func (s *Server) RequireBasicAuth(user, password string) {
	s.mu.Lock()
	s.authUser, s.authPass, s.authOn = user, password, true
	s.mu.Unlock()
}

// SetFaults replaces the fault configuration and restarts the per-path
// request counts that rules and the seeded mix depend on.
func (s *Server) SetFaults(f Faults) {
	f.Rules = slices.Clone(f.Rules)
	f.Mix = slices.Clone(f.Mix)
	s.mu.Lock()
	s.faults = f
	clear(s.counts)
	s.mu.Unlock()
}

// Requests returns a copy of the request log, in order of arrival.
func (s *Server) Requests() Log {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(Log, len(s.log))
	for i, r := range s.log {
		out[i] = *r
	}
	return out
}

// ResetRequests empties the request log. It does not restart the request
// counts faults depend on; SetFaults does.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	s.log = nil
	s.mu.Unlock()
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.handlers.Add(1)
	defer s.handlers.Done()
	t, perr := parseTarget(r.URL.Path)
	s.mu.Lock()
	n := s.counts[r.URL.Path]
	s.counts[r.URL.Path]++
	fault := s.faults.decide(r.URL.Path, t, n)
	latency, bandwidth, noRange := s.faults.Latency, s.faults.Bandwidth, s.faults.NoRange
	authUser, authPass, authOn := s.authUser, s.authPass, s.authOn
	entry := &Request{
		Server:  s.Name,
		Time:    time.Now(),
		Method:  r.Method,
		Path:    r.URL.Path,
		Kind:    t.kind,
		Module:  t.module,
		Version: t.version,
		Range:   r.Header.Get("Range"),
		Header:  r.Header.Clone(),
		N:       n,
		Fault:   fault,
	}
	s.log = append(s.log, entry)
	s.mu.Unlock()

	if fault.Kind == FaultTrickle {
		bandwidth = fault.Bandwidth
	}
	if noRange {
		r.Header.Del("Range")
		r.Header.Del("If-Range")
	}
	fw := &faultWriter{ResponseWriter: w, s: s, r: r, fault: fault, bandwidth: bandwidth, noRange: noRange}
	defer func() {
		s.mu.Lock()
		entry.Status, entry.Bytes, entry.Done = fw.status, fw.bytes, true
		s.mu.Unlock()
	}()

	if !s.preamble(fw, r, latency) || !authorized(fw, r, authUser, authPass, authOn) {
		return
	}
	if t.kind == KindSumDB && perr == nil {
		if t.db != s.db.name {
			http.Error(fw, "not found: no checksum database named "+t.db, http.StatusNotFound)
		} else {
			s.serveSumDB(fw, r, t.dbPath)
		}
	} else {
		s.serveModuleFile(fw, r, t, perr)
	}
	if fw.aborted {
		fw.abort()
	}
}

// preamble applies the latency and the faults that come before, or instead
// of, the real answer. It reports whether the real answer should follow.
func (s *Server) preamble(fw *faultWriter, r *http.Request, latency time.Duration) bool {
	if latency > 0 && !s.wait(r, latency) {
		fw.abort()
		return false
	}
	switch f := fw.fault; f.Kind {
	case FaultReset:
		fw.reset()
		return false
	case FaultStall, FaultDelay:
		if f.Kind == FaultDelay && f.Duration == 0 {
			return true
		}
		if !s.wait(r, f.Duration) {
			fw.abort()
			return false
		}
	case FaultStatus:
		if f.RetryAfter != "" {
			fw.Header().Set("Retry-After", f.RetryAfter)
		}
		http.Error(fw, fmt.Sprintf("modnettest: injected %d %s", f.Status, http.StatusText(f.Status)), f.Status)
		return false
	case FaultBody:
		code := f.Status
		if code == 0 {
			code = http.StatusOK
		}
		fw.Header().Set("Content-Length", strconv.Itoa(len(f.Body)))
		fw.WriteHeader(code)
		if r.Method != http.MethodHead {
			_, _ = fw.Write([]byte(f.Body))
		}
		return false
	}
	return true
}

// authorized checks the Basic credentials RequireBasicAuth asks for,
// answering 401 with a challenge when they are missing or wrong.
func authorized(w http.ResponseWriter, r *http.Request, user, password string, required bool) bool {
	if !required {
		return true
	}
	if u, p, ok := r.BasicAuth(); ok && u == user && p == password {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="modnettest"`)
	http.Error(w, "unauthorized: modnettest requires credentials", http.StatusUnauthorized)
	return false
}

// serveModuleFile answers a GOPROXY protocol request from the in-memory
// modules, else from Dir.
func (s *Server) serveModuleFile(w *faultWriter, r *http.Request, t target, perr error) {
	if perr != nil {
		http.Error(w, "not found: "+perr.Error(), http.StatusNotFound)
		return
	}
	c, err := s.content(t)
	if err != nil {
		// The go command falls back to the next proxy only on 404 and 410
		// (modfetch/proxy.go, TryProxies), so "does not exist" must be one.
		http.Error(w, "not found: "+err.Error(), http.StatusNotFound)
		return
	}
	defer c.Close()
	if w.fault.Kind == FaultCorrupt {
		if err := c.corrupt(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	w.Header().Set("Content-Type", c.contentType)
	if c.etag != "" {
		w.Header().Set("ETag", c.etag)
	}
	http.ServeContent(w, r, "", c.modTime, c.body)
}

// serveSumDB answers a checksum database request. The answer is buffered
// so it goes out with a Content-Length, like module files, and body faults
// (cuts, mid-body stalls, corruption, bandwidth) act on it too.
func (s *Server) serveSumDB(w *faultWriter, r *http.Request, dbPath string) {
	rec := httptest.NewRecorder()
	s.db.serve(rec, r, dbPath)
	body := rec.Body.Bytes()
	if w.fault.Kind == FaultCorrupt && len(body) > 0 {
		body[len(body)/2] ^= 0xff
	}
	maps.Copy(w.Header(), rec.Header())
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.Code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// content returns what t asks for, from memory or from Dir.
func (s *Server) content(t target) (*content, error) {
	s.mu.Lock()
	vs := s.mods[t.module]
	var mem []string
	for v := range vs {
		mem = append(mem, v)
	}
	b := vs[t.version]
	s.mu.Unlock()

	switch t.kind {
	case KindList:
		if len(mem) == 0 {
			break // from Dir, verbatim, as a file:// proxy would serve it
		}
		list := listedVersions(mem)
		if s.Dir != "" {
			if onDisk, err := readDirList(s.Dir, t.module); err == nil {
				list = append(list, onDisk...)
				semver.Sort(list)
				list = slices.Compact(list)
			}
		}
		var text strings.Builder
		for _, v := range list {
			text.WriteString(v + "\n")
		}
		return bytesContent([]byte(text.String()), KindList, time.Time{}), nil
	case KindLatest:
		if len(mem) > 0 {
			lb := vs[latestVersion(mem)]
			return bytesContent(lb.info, KindLatest, lb.time), nil
		}
	case KindInfo, KindMod, KindZip:
		if b != nil {
			c := bytesContent(map[FileKind][]byte{KindInfo: b.info, KindMod: b.mod, KindZip: b.zip}[t.kind], t.kind, b.time)
			c.etag = b.etags[t.kind]
			return c, nil
		}
	}
	if s.Dir == "" {
		if len(mem) == 0 {
			return nil, fmt.Errorf("unknown module %s", t.module)
		}
		return nil, fmt.Errorf("%s@%s: unknown version", t.module, t.version)
	}
	return dirContent(s.Dir, t)
}

// sumLines returns the go.sum lines the checksum database logs for a module
// version. A zip that is not a valid module zip gets only its go.mod line.
func (s *Server) sumLines(path, version string) ([]byte, error) {
	s.mu.Lock()
	b := s.mods[path][version]
	s.mu.Unlock()
	if b != nil {
		if b.zipSum == "" {
			return fmt.Appendf(nil, "%s %s/go.mod %s\n", path, version, b.modSum), nil
		}
		return []byte(b.goSum()), nil
	}
	if s.Dir == "" {
		return nil, fmt.Errorf("unknown module version %s@%s", path, version)
	}
	return dirSumLines(s.Dir, path, version)
}
