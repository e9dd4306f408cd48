package modproxy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/tlog"
	"golang.org/x/sync/singleflight"
)

// ChecksumDB reads an upstream checksum database, as *modnet.SumDB does:
// path is "/latest", "/lookup/..." or "/tile/...", and "not found"
// answers match fs.ErrNotExist.
type ChecksumDB interface {
	ReadRemote(ctx context.Context, path string) ([]byte, error)
}

// serveSumDB answers /sumdb/<name>/<path> for the checksum databases the
// proxy serves, as the go command asks them of a GOPROXY entry
// (cmd/go/internal/modfetch/sumdb.go: dbClient.initBase asks
// <proxy>/sumdb/<name>/supported, then ReadRemote reads the rest there).
// The go command verifies every answer, so the proxy passes them through;
// it only caches them: tiles for ever (a tile's content never changes),
// lookups for ever (a record never changes; its signed tree head merely
// ages), and the signed tree head for SumDBLatestMaxAge. A lookup of a
// path whose route does not consult the database (GONOSUMDB, GOPRIVATE)
// is refused, so that a private path never reaches the database through
// the proxy.
func (s *Server) serveSumDB(w *recorder, r *http.Request, target string) {
	name, rest, _ := strings.Cut(target, "/")
	db := s.SumDBs[name]
	if db == nil {
		respond(w, r, http.StatusNotFound, cacheNotFound, fmt.Sprintf("not found: checksum database %q is not proxied here", name))
		return
	}
	key := sumDBKey(name, rest)
	switch {
	case rest == "supported":
		respond(w, r, http.StatusOK, cacheLookup, "")
	case rest == "latest":
		s.serveSumDBLatest(w, r, db, key)
	case strings.HasPrefix(rest, "lookup/"):
		escPath, escVersion, ok := strings.Cut(strings.TrimPrefix(rest, "lookup/"), "@")
		modPath, err1 := module.UnescapePath(escPath)
		_, err2 := module.UnescapeVersion(escVersion)
		if !ok || err1 != nil || err2 != nil {
			respond(w, r, http.StatusNotFound, cacheNotFound, "not found: malformed lookup")
			return
		}
		if !s.up.ChecksumDB(modPath) {
			respond(w, r, http.StatusNotFound, cacheNever,
				fmt.Sprintf("not found: %s is private here (GONOSUMDB, GOPRIVATE or GOSUMDB=off): not looked up in checksum database %s", modPath, name))
			return
		}
		s.serveSumDBFile(w, r, db, key, "/"+rest, typeText, cacheLookup, nil)
	case strings.HasPrefix(rest, "tile/"):
		tile, err := tlog.ParseTilePath(rest)
		if err != nil {
			respond(w, r, http.StatusNotFound, cacheNotFound, "not found: "+err.Error())
			return
		}
		s.serveSumDBFile(w, r, db, key, "/"+rest, typeBinary, cacheImmutable, func(data []byte) error {
			// A hash tile holds W hashes; a data tile holds W records of
			// any length. A cut answer must not be kept for ever.
			if tile.L >= 0 && len(data) != tile.W*tlog.HashSize {
				return fmt.Errorf("checksum database %s: %s has %d bytes, want %d", name, rest, len(data), tile.W*tlog.HashSize)
			}
			return nil
		})
	default:
		respond(w, r, http.StatusNotFound, cacheNotFound, "not found: unknown checksum database request")
	}
}

// serveSumDBFile answers a lookup or tile from the store, fetching and
// storing it on a miss.
func (s *Server) serveSumDBFile(w *recorder, r *http.Request, db ChecksumDB, key, remote, ctype, cacheControl string, check func([]byte) error) {
	if s.serveStored(w, r, key, ctype, cacheControl, "store") {
		return
	}
	v, err := s.fill(r.Context(), sumDBFillKey(key), s.sumDBFetch(db, key, remote, check))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.from = "upstream"
	serveBytes(w, r, v.([]byte), ctype, cacheControl)
}

// sumDBKey is the store key of the file rest of checksum database name,
// as a client asks for it under /sumdb/<name>/.
func sumDBKey(name, rest string) string { return "sumdb/" + name + "/" + rest }

// sumDBFillKey is the fill key of the store key of a checksum database
// file: requests for it and fetches started ahead join one fetch.
func sumDBFillKey(key string) string { return "sumdb\x00" + key }

// startLookup starts fetching mod's record in checksum database name
// into the store, as a client's lookup would, and returns the channel its
// result arrives on; nil when the record is stored already.
func (s *Server) startLookup(name string, mod module.Version) <-chan singleflight.Result {
	escPath, err1 := module.EscapePath(mod.Path)
	escVersion, err2 := module.EscapeVersion(mod.Version)
	if err1 != nil || err2 != nil {
		return nil // not a version a client could look up
	}
	rest := "lookup/" + escPath + "@" + escVersion
	key := sumDBKey(name, rest)
	if _, err := s.store.Stat(context.Background(), key); err == nil {
		return nil
	}
	return s.startFill(context.Background(), sumDBFillKey(key), s.sumDBFetch(s.SumDBs[name], key, "/"+rest, nil))
}

// sumDBFetch is the fill of a lookup or tile: read from the database,
// checked, stored under key (the answer is good even if it cannot be).
func (s *Server) sumDBFetch(db ChecksumDB, key, remote string, check func([]byte) error) func(context.Context) (any, error) {
	return func(ctx context.Context) (any, error) {
		data, err := db.ReadRemote(ctx, remote)
		if err != nil {
			return nil, err
		}
		if check != nil {
			if err := check(data); err != nil {
				return nil, err
			}
		}
		if err := s.put(ctx, key, bytes.NewReader(data)); err != nil {
			s.logger().Error("storing checksum database answer", "key", key, "error", err)
		}
		return data, nil
	}
}

// serveSumDBLatest answers the database's signed tree head: the stored one
// while it is younger than SumDBLatestMaxAge, else a fresh one, else (when
// upstream fails) the stored one however old. An old tree head is safe:
// the go command checks that every tree it sees is consistent with the
// newest it knows, and merely proves less with an older one.
func (s *Server) serveSumDBLatest(w *recorder, r *http.Request, db ChecksumDB, key string) {
	maxAge := s.SumDBLatestMaxAge
	if maxAge <= 0 {
		maxAge = time.Minute
	}
	if f, oi, ok := s.stored(r.Context(), key); ok {
		// Read rather than served as a stored file: the key's content
		// changes, so only the content can name it in an ETag.
		data, err := io.ReadAll(f)
		f.Close()
		if left := maxAge - s.clock().Sub(oi.ModTime); err == nil && left > 0 {
			w.from = "store"
			serveBytes(w, r, data, typeText, "public, max-age="+strconv.Itoa(int(left/time.Second)))
			return
		}
	}
	s.serveVolatile(w, r, key, typeText, "public, max-age="+strconv.Itoa(int(maxAge/time.Second)), func(ctx context.Context) ([]byte, error) {
		return db.ReadRemote(ctx, "/latest")
	})
}
