package modnet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/mod/sumdb"

	"github.com/modkit/modkit/internal/web"
	"github.com/modkit/modkit/modnet/internal/lockedfile"
)

// A getFunc fetches the body at an http or https URL. Answers that mean
// "not found" (HTTP 404 and 410) must yield errors matching
// [fs.ErrNotExist]: they decide fallback, as in the go command.
type getFunc func(ctx context.Context, url string) ([]byte, error)

// A SumDB is a client of one checksum database, built on
// [golang.org/x/mod/sumdb.Client] with the go command's storage and
// connection rules (cmd/go/internal/modfetch/sumdb.go):
//
//   - the verifier key comes from GOSUMDB; the latest signed tree head is
//     kept in $GOPATH/pkg/sumdb/<name>/latest, shared with the go command
//     and updated with its lock and compare-and-swap;
//   - tiles and lookups are cached in <GOMODCACHE>/cache/download/sumdb;
//   - the database is reached at the URL GOSUMDB gives, else through the
//     first GOPROXY entry that answers <proxy>/sumdb/<name>/supported, else
//     directly at https://<name>.
//
// Unlike the go command, which exits on a security error, a SumDB returns
// it as a [*ChecksumError], and once the database has been caught
// presenting an inconsistent log it answers every later lookup with that
// error. A lookup that fails for other reasons (network, disk) discards the
// in-memory client state, so the next lookup starts afresh; the go command
// would remember such a failure until it exits.
//
// [Client.SumDB] returns the one a Client verifies with. A SumDB is safe
// for concurrent use; lookups share one client.
type SumDB struct {
	name    string
	key     string
	env     *Env
	db      ChecksumDB
	get     getFunc
	cache   string // GOMODCACHE
	config  string // $GOPATH/pkg/sumdb, empty if GOPATH is unset
	nosumdb string

	mu       sync.Mutex
	client   *sumdb.Client
	ops      *sumdbOps
	security *ChecksumError // sticky: the database misbehaved

	baseMu sync.Mutex
	base   *url.URL // where ReadRemote reaches the database, once found
}

// newSumDB returns a client for the checksum database db, as decided by
// [Env.Route] for a module whose downloads it verifies, storing tiles in
// cache (nil: the cache env describes). get fetches over the network;
// file:// URLs (file:// proxies) are read directly.
func newSumDB(env *Env, cache *Cache, db ChecksumDB, get getFunc) (*SumDB, error) {
	if db.Err != nil {
		return nil, db.Err
	}
	if db.Name == "" || db.Key == "" {
		return nil, errors.New("checksum database disabled (GOSUMDB=off) or not configured")
	}
	if cache == nil {
		var err error
		if cache, err = NewCache(env); err != nil {
			return nil, err
		}
	}
	d := &SumDB{
		name:    db.Name,
		key:     db.Key,
		env:     env,
		db:      db,
		get:     get,
		cache:   cache.Dir,
		nosumdb: env.Get("GONOSUMDB"),
	}
	// cmd/go/internal/cfg.SumdbDir: the first GOPATH entry.
	if gp := firstGOPATH(env.Get("GOPATH")); gp != "" {
		d.config = filepath.Join(gp, "pkg", "sumdb")
	}
	d.client, d.ops = d.newClient()
	return d, nil
}

func (d *SumDB) newClient() (*sumdb.Client, *sumdbOps) {
	ops := &sumdbOps{db: d, errs: make(map[string]error)}
	c := sumdb.NewClient(ops)
	// Route already excludes GONOSUMDB paths; the client refuses them too,
	// so that no lookup for a private path can reach the database.
	if d.nosumdb != "" {
		c.SetGONOSUMDB(d.nosumdb)
	}
	return c, ops
}

// Name returns the database's name, such as "sum.golang.org".
func (d *SumDB) Name() string { return d.name }

// Lookup returns the database's go.sum lines for path and version; a
// version ending in "/go.mod" asks for the go.mod hash. An answer that
// cannot be authenticated is a [*ChecksumError]; network and disk failures
// are other errors, with the underlying error wrapped. Paths matching
// GONOSUMDB yield [sumdb.ErrGONOSUMDB] without any request.
//
// The database protocol has no context: if ctx ends first, Lookup returns
// and the lookup finishes in the background, within the getFunc's limits.
func (d *SumDB) Lookup(ctx context.Context, path, version string) ([]string, error) {
	d.mu.Lock()
	client, ops, sec := d.client, d.ops, d.security
	d.mu.Unlock()
	if sec != nil {
		e := *sec
		e.Path, e.Version = path, strings.TrimSuffix(version, "/go.mod")
		return nil, &e
	}
	ops.setContext(ctx)
	type result struct {
		lines []string
		err   error
	}
	done := make(chan result, 1)
	go func() {
		lines, err := client.Lookup(path, version)
		done <- result{lines, d.classify(client, ops, path, version, err)}
	}()
	select {
	case r := <-done:
		return r.lines, r.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// SumDB returns the client of the checksum database GOSUMDB names, the
// one the Client verifies downloads with: it reaches the database over the
// Client's HTTP stack (retries, the environment's HTTP proxy settings,
// GOAUTH credentials) and keeps tiles in the Client's cache. It is for
// module proxies that serve the database to go commands, with
// [SumDB.ReadRemote]. GOSUMDB=off is an error.
func (c *Client) SumDB() (*SumDB, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	db, err := ParseGOSUMDB(c.env.Lookup("GOSUMDB"))
	if err != nil {
		return nil, err
	}
	return c.sumdbs.get(c.env, c.cache, db, c.getBytes)
}

// ReadRemote returns the database's raw answer for path, such as "/latest",
// "/lookup/<path>@<version>" or "/tile/8/0/001", fetched from where the go
// command would reach the database (see [SumDB]) but not verified: it is
// for module proxies that serve the database to go commands under
// /sumdb/<name>/, which verify what they receive. Answers that mean "not
// found" match [fs.ErrNotExist].
//
// Where the database is reached is decided on the first success and kept,
// as the go command decides once per process; a failure to decide is not
// remembered.
func (d *SumDB) ReadRemote(ctx context.Context, path string) ([]byte, error) {
	d.baseMu.Lock()
	base := d.base
	if base == nil {
		var err error
		if base, err = d.findBase(ctx); err != nil {
			d.baseMu.Unlock()
			return nil, err
		}
		d.base = base
	}
	d.baseMu.Unlock()
	return d.read(ctx, joinURL(base, path))
}

// classify turns a sumdb.Client error, whose text is all that is left of
// the failure, back into what happened: an error one of our operations
// returned (network, disk), which is recovered with its chain; a security
// error; or a failed verification of the answer.
func (d *SumDB) classify(client *sumdb.Client, ops *sumdbOps, path, version string, err error) error {
	if err == nil || errors.Is(err, sumdb.ErrGONOSUMDB) {
		return err
	}
	if msg := ops.securityMessage(); msg != "" {
		ce := &ChecksumError{Path: path, Version: strings.TrimSuffix(version, "/go.mod"), Source: d.name, DB: true, Err: errors.New(msg)}
		d.mu.Lock()
		if d.security == nil {
			kept := *ce // callers may fill in ce
			d.security = &kept
		}
		d.mu.Unlock()
		return ce
	}
	inner := strings.TrimPrefix(err.Error(), path+"@"+version+": ")
	const initPrefix = "initializing sumdb.Client: "
	local := strings.HasPrefix(inner, initPrefix)
	if orig := ops.recorded(strings.TrimPrefix(inner, initPrefix)); orig != nil {
		d.reset(client)
		return fmt.Errorf("%s@%s: %w", path, version, orig)
	}
	if local {
		// The stored configuration (key, latest tree head) is unusable.
		d.reset(client)
		return err
	}
	return &ChecksumError{Path: path, Version: strings.TrimSuffix(version, "/go.mod"), Source: d.name, DB: true, Err: errors.New(inner)}
}

// reset replaces the client after a failure that is not the database's
// fault, unless another lookup did already: sumdb.Client remembers
// failures for its lifetime.
func (d *SumDB) reset(failed *sumdb.Client) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.client == failed {
		d.client, d.ops = d.newClient()
	}
}

// sumdbOps is the sumdb.ClientOps of one client generation, mirroring
// cmd/go/internal/modfetch.dbClient.
type sumdbOps struct {
	db *SumDB

	mu   sync.Mutex
	ctx  context.Context  // for remote reads: the latest caller's, without its cancellation
	errs map[string]error // errors returned to the client, by text
	sec  string           // the first security error message

	baseOnce sync.Once
	base     *url.URL
	baseErr  error
}

func (o *sumdbOps) setContext(ctx context.Context) {
	o.mu.Lock()
	o.ctx = context.WithoutCancel(ctx)
	o.mu.Unlock()
}

func (o *sumdbOps) context() context.Context {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ctx == nil {
		return context.Background()
	}
	return o.ctx
}

// record remembers err so that [SumDB.classify] can find it again.
func (o *sumdbOps) record(err error) error {
	if err != nil {
		o.mu.Lock()
		o.errs[err.Error()] = err
		o.mu.Unlock()
	}
	return err
}

func (o *sumdbOps) recorded(msg string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.errs[msg]
}

func (o *sumdbOps) securityMessage() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.sec
}

// ReadRemote fetches path from the database, through a proxy if one
// offered (cmd/go/internal/modfetch.dbClient.ReadRemote).
func (o *sumdbOps) ReadRemote(path string) ([]byte, error) {
	ctx := o.context()
	o.baseOnce.Do(func() { o.base, o.baseErr = o.db.findBase(ctx) })
	if o.baseErr != nil {
		return nil, o.record(o.baseErr)
	}
	data, err := o.db.read(ctx, joinURL(o.base, path))
	return data, o.record(err)
}

// ReadConfig returns the verifier key, or a file under $GOPATH/pkg/sumdb
// read under the go command's lock; a missing file is empty, which starts
// the database's timeline afresh.
func (o *sumdbOps) ReadConfig(file string) ([]byte, error) {
	if file == "key" {
		return []byte(o.db.key), nil
	}
	if o.db.config == "" {
		return nil, o.record(errors.New("could not locate sumdb file: missing $GOPATH"))
	}
	data, err := lockedfile.Read(o.context(), filepath.Join(o.db.config, file))
	if errors.Is(err, fs.ErrNotExist) {
		return []byte{}, nil
	}
	return data, o.record(err)
}

// WriteConfig replaces a file under $GOPATH/pkg/sumdb if it still holds
// old, under the go command's lock; else it reports
// [sumdb.ErrWriteConflict] and the client merges and tries again.
func (o *sumdbOps) WriteConfig(file string, old, new []byte) (err error) {
	if file == "key" {
		return errors.New("cannot write key")
	}
	if o.db.config == "" {
		return o.record(errors.New("could not locate sumdb file: missing $GOPATH"))
	}
	defer func() {
		if err != sumdb.ErrWriteConflict {
			o.record(err)
		}
	}()
	targ := filepath.Join(o.db.config, file)
	os.MkdirAll(filepath.Dir(targ), 0o777)
	f, err := lockedfile.OpenFile(o.context(), targ, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	if len(data) > 0 && !bytes.Equal(data, old) {
		return sumdb.ErrWriteConflict
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.Write(new); err != nil {
		return err
	}
	return f.Close()
}

// ReadCache reads a cached tile or lookup from
// <GOMODCACHE>/cache/download/sumdb. An empty file counts as missing: the
// go command's writer creates the file before it locks and fills it.
func (o *sumdbOps) ReadCache(file string) ([]byte, error) {
	targ := filepath.Join(o.db.cache, "cache", "download", "sumdb", file)
	data, err := lockedfile.Read(o.context(), targ)
	if err == nil && len(data) == 0 {
		err = &fs.PathError{Op: "read", Path: targ, Err: fs.ErrNotExist}
	}
	return data, err
}

// WriteCache stores a verified tile or lookup, best effort, as the go
// command does.
func (o *sumdbOps) WriteCache(file string, data []byte) {
	targ := filepath.Join(o.db.cache, "cache", "download", "sumdb", file)
	os.MkdirAll(filepath.Dir(targ), 0o777)
	lockedfile.Write(o.context(), targ, data, 0o666)
}

// Log discards the client's progress messages, as the go command does.
func (o *sumdbOps) Log(msg string) {}

// SecurityError records proof of the database's misbehaviour. The go
// command prints it and exits; the lookup returns it instead.
func (o *sumdbOps) SecurityError(msg string) {
	o.mu.Lock()
	if o.sec == "" {
		o.sec = msg
	}
	o.mu.Unlock()
}

// errSumDBProxyOff ends the proxy walk at direct or off, as "not found"
// so that the database's own URL is used (cmd/go/internal/modfetch:
// errProxyOff). The go command's list also starts with a "noproxy" entry
// when GONOPROXY is set; for the checksum database it answers errUseProxy,
// another "not found", which changes neither the walk nor its outcome, so
// Walk over the GOPROXY list alone decides the same.
var errSumDBProxyOff = fmt.Errorf("reached direct or off in GOPROXY: %w", fs.ErrNotExist)

// findBase decides where the database is reached
// (cmd/go/internal/modfetch.dbClient.initBase): the URL in GOSUMDB if it
// gives one; else the first proxy in GOPROXY whose
// <proxy>/sumdb/<name>/supported answers, never falling back to a direct
// connection after that; else, when every proxy answered "not found" or was
// allowed to fail, or the walk reached direct or off, directly. Any other
// failure leaves the database unavailable.
func (d *SumDB) findBase(ctx context.Context) (*url.URL, error) {
	if d.db.Explicit {
		return url.Parse(d.db.URL)
	}
	direct, err := url.Parse(d.db.URL)
	if err != nil {
		return nil, err
	}
	srcs, err := d.env.ProxyList()
	if err != nil {
		return nil, fmt.Errorf("checksum database %s unavailable: %w", d.name, err)
	}
	var base *url.URL
	err = Walk(ctx, srcs, func(s Source) error {
		if s.Kind != KindProxy {
			return errSumDBProxyOff
		}
		proxyURL, err := url.Parse(s.URL)
		if err != nil {
			return err
		}
		if _, err := d.read(ctx, joinURL(proxyURL, "sumdb/"+d.name+"/supported")); err != nil {
			return err
		}
		base = joinURL(proxyURL, "sumdb/"+d.name)
		return nil
	})
	switch {
	case err == nil:
		return base, nil
	case errors.Is(err, fs.ErrNotExist):
		return direct, nil
	}
	return nil, fmt.Errorf("checksum database %s unavailable: %w", d.name, err)
}

// read fetches u: file URLs from disk, others with the getFunc.
func (d *SumDB) read(ctx context.Context, u *url.URL) ([]byte, error) {
	if u.Scheme == "file" {
		return os.ReadFile(fileURLPath(u))
	}
	if d.get == nil {
		return nil, fmt.Errorf("reading %s: no getFunc", web.RedactURL(u))
	}
	return d.get(ctx, u.String())
}

// fileURLPath is the local path of a file URL (file:///dir or
// file:///C:/dir).
func fileURLPath(u *url.URL) string {
	p := u.Path
	if runtime.GOOS == "windows" && len(p) >= 3 && p[0] == '/' && p[2] == ':' {
		p = p[1:]
	}
	return filepath.FromSlash(p)
}

// joinURL appends path to u's path, keeping its query, as
// cmd/go/internal/web.Join does.
func joinURL(u *url.URL, path string) *url.URL {
	j := *u
	if path == "" {
		return &j
	}
	j.Path = strings.TrimSuffix(u.Path, "/") + "/" + strings.TrimPrefix(path, "/")
	j.RawPath = ""
	if u.RawPath != "" {
		j.RawPath = strings.TrimSuffix(u.RawPath, "/") + "/" + strings.TrimPrefix(path, "/")
	}
	return &j
}

// sumDBSet shares one [SumDB] per checksum database among the lookups of
// one environment, as the go command has one per process.
type sumDBSet struct {
	mu sync.Mutex
	m  map[sumDBKey]*SumDB
}

type sumDBKey struct {
	env           *Env
	cache         string
	name, key, to string
	explicit      bool
}

// get returns the SumDB for db, creating it on first use.
func (s *sumDBSet) get(env *Env, cache *Cache, db ChecksumDB, get getFunc) (*SumDB, error) {
	k := sumDBKey{env: env, name: db.Name, key: db.Key, to: db.URL, explicit: db.Explicit}
	if cache != nil {
		k.cache = cache.Dir
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.m[k]; d != nil {
		return d, nil
	}
	d, err := newSumDB(env, cache, db, get)
	if err != nil {
		return nil, err
	}
	if s.m == nil {
		s.m = make(map[sumDBKey]*SumDB)
	}
	s.m[k] = d
	return d, nil
}

// checker returns the sumChecker for downloads of the module r routes:
// gosum's lines first, then, if r says so, the shared client of r's
// checksum database.
func (s *sumDBSet) checker(env *Env, cache *Cache, r *Route, gosum *GoSum, get getFunc) (*sumChecker, error) {
	c := &sumChecker{gosum: gosum, db: r.ChecksumDB}
	if r.ChecksumDB.Verify && r.ChecksumDB.Err == nil {
		d, err := s.get(env, cache, r.ChecksumDB, get)
		if err != nil {
			return nil, err
		}
		c.sumdb = d
	}
	return c, nil
}
