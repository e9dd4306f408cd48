package modnettest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// A SumDBMode selects how a server's checksum database behaves, so that
// security tests can see a client reject a misbehaving database.
type SumDBMode int

const (
	// SumDBHonest serves the true go.sum lines in a consistent, signed log.
	SumDBHonest SumDBMode = iota
	// SumDBWrongHash answers lookups with a record whose zip hash is wrong.
	// The record is properly logged and signed: the database consistently
	// vouches for other content than the proxy serves, so a client must
	// report a checksum mismatch.
	SumDBWrongHash
	// SumDBTamperedRecord serves records (in lookups and data tiles) that
	// differ from the ones the signed tree hashes prove, so a client's
	// inclusion proof fails.
	SumDBTamperedRecord
	// SumDBBadSignature serves tree heads whose signature does not verify.
	SumDBBadSignature
)

// String returns a short name for the mode, such as "wrong-hash".
func (m SumDBMode) String() string {
	switch m {
	case SumDBHonest:
		return "honest"
	case SumDBWrongHash:
		return "wrong-hash"
	case SumDBTamperedRecord:
		return "tampered-record"
	case SumDBBadSignature:
		return "bad-signature"
	}
	return fmt.Sprintf("SumDBMode(%d)", int(m))
}

// sumDBCount makes default database names unique within a process: the go
// command caches tree heads and tiles by database name, so two test
// databases with one name but different keys would trip each other up.
var sumDBCount atomic.Int64

// processTag distinguishes this process's database names from those of
// earlier runs: a client that keeps the go command's state
// ($GOPATH/pkg/sumdb/<name>/latest) would otherwise meet a tree head signed
// by another run's key under the same name and refuse it.
var processTag = func() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}()

// A SumDB is the checksum database a [Server] hosts for the modules it
// serves, built on golang.org/x/mod/sumdb's server and a tlog tree signed
// with a key generated for this server.
//
// It is reachable directly at URL (for GOSUMDB="<key> <url>") and through
// the proxy protocol's checksum database proxying: the server answers
// <proxy>/sumdb/<name>/supported and forwards lookup, latest and tile
// requests under that prefix, which is what the go command uses when
// GOSUMDB names only the key (modfetch/sumdb.go, dbClient.initBase).
type SumDB struct {
	name, vkey string
	url        string
	signer     note.Signer
	handler    http.Handler
	// gosum returns the go.sum lines of a module version the server serves.
	gosum func(path, version string) ([]byte, error)

	mu        sync.Mutex
	supported bool
	mode      SumDBMode
	records   [][]byte
	hashes    []tlog.Hash
	ids       map[string]int64
}

func newSumDB(name, url string, gosum func(path, version string) ([]byte, error)) (*SumDB, error) {
	if name == "" {
		name = fmt.Sprintf("sum%d-%s.modnettest.test", sumDBCount.Add(1), processTag)
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return nil, fmt.Errorf("modnettest: checksum database key for %q: %w", name, err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, err
	}
	db := &SumDB{
		name:      name,
		vkey:      vkey,
		url:       url + "/sumdb/" + name,
		signer:    signer,
		gosum:     gosum,
		supported: true,
		ids:       make(map[string]int64),
	}
	db.handler = sumdb.NewServer(dbOps{db})
	return db, nil
}

// Name returns the database name, which is also the name in its key.
func (db *SumDB) Name() string { return db.name }

// Key returns the verifier key ("<name>+<hash>+<key>"), the value of
// GOSUMDB that makes the go command reach the database through the proxy.
func (db *SumDB) Key() string { return db.vkey }

// URL returns the database's direct URL, <server URL>/sumdb/<name>.
func (db *SumDB) URL() string { return db.url }

// GOSUMDB returns "<key> <url>", the GOSUMDB value that makes the go command
// use this database directly, bypassing proxies.
func (db *SumDB) GOSUMDB() string { return db.vkey + " " + db.url }

// Verifier returns a verifier for the database's signatures, for clients
// written in Go.
func (db *SumDB) Verifier() note.Verifier {
	v, err := note.NewVerifier(db.vkey)
	if err != nil {
		panic("modnettest: own verifier key does not parse: " + err.Error())
	}
	return v
}

// SetSupported sets whether <proxy>/sumdb/<name>/supported answers 200
// (the default) or 404, that is whether the proxy offers to proxy the
// database.
func (db *SumDB) SetSupported(ok bool) {
	db.mu.Lock()
	db.supported = ok
	db.mu.Unlock()
}

// SetMode switches how the database behaves from now on.
func (db *SumDB) SetMode(m SumDBMode) {
	db.mu.Lock()
	db.mode = m
	db.mu.Unlock()
}

// serve answers a request for /sumdb/<db.name><dbPath>.
func (db *SumDB) serve(w http.ResponseWriter, r *http.Request, dbPath string) {
	if dbPath == "/supported" {
		db.mu.Lock()
		ok := db.supported
		db.mu.Unlock()
		if !ok {
			http.Error(w, "not found: checksum database proxying is switched off", http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = dbPath
	r2.URL.RawPath = ""
	db.handler.ServeHTTP(w, r2)
}

// add logs the record for path@version now, so that record IDs and tree
// heads do not depend on the order of lookups.
func (db *SumDB) add(path, version string) {
	_, _ = dbOps{db}.Lookup(context.Background(), module.Version{Path: path, Version: version})
}

// dbOps implements sumdb.ServerOps for a SumDB.
type dbOps struct{ db *SumDB }

func (o dbOps) Signed(ctx context.Context) ([]byte, error) {
	db := o.db
	db.mu.Lock()
	defer db.mu.Unlock()
	size := int64(len(db.records))
	h, err := tlog.TreeHash(size, db.hashReader())
	if err != nil {
		return nil, err
	}
	msg, err := note.Sign(&note.Note{Text: string(tlog.FormatTree(tlog.Tree{N: size, Hash: h}))}, db.signer)
	if err != nil {
		return nil, err
	}
	if db.mode == SumDBBadSignature {
		msg = corruptSignature(msg)
	}
	return msg, nil
}

func (o dbOps) ReadRecords(ctx context.Context, id, n int64) ([][]byte, error) {
	db := o.db
	db.mu.Lock()
	defer db.mu.Unlock()
	if id < 0 || n < 0 || id+n > int64(len(db.records)) {
		return nil, fmt.Errorf("records %d to %d not in a log of %d: %w", id, id+n-1, len(db.records), fs.ErrNotExist)
	}
	list := make([][]byte, n)
	for i := range list {
		list[i] = db.records[id+int64(i)]
		if db.mode == SumDBTamperedRecord {
			list[i] = falsifyFirstHash(list[i])
		}
	}
	return list, nil
}

func (o dbOps) Lookup(ctx context.Context, m module.Version) (int64, error) {
	db := o.db
	db.mu.Lock()
	lie := db.mode == SumDBWrongHash
	db.mu.Unlock()
	key := m.String()
	if lie {
		key = "wrong-hash " + key
	}
	db.mu.Lock()
	id, ok := db.ids[key]
	db.mu.Unlock()
	if ok {
		return id, nil
	}
	// Hash outside the lock: a zip can be large.
	data, err := db.gosum(m.Path, m.Version)
	if err != nil {
		// sumdb.Server answers 404 only for errors os.IsNotExist recognises,
		// and that does not unwrap %w chains.
		return 0, &fs.PathError{Op: "lookup", Path: m.String(), Err: fs.ErrNotExist}
	}
	if lie {
		data = falsifyFirstHash(data)
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if id, ok := db.ids[key]; ok {
		return id, nil
	}
	id = int64(len(db.records))
	hashes, err := tlog.StoredHashesForRecordHash(id, tlog.RecordHash(data), db.hashReader())
	if err != nil {
		return 0, err
	}
	db.records = append(db.records, data)
	db.hashes = append(db.hashes, hashes...)
	db.ids[key] = id
	return id, nil
}

func (o dbOps) ReadTileData(ctx context.Context, t tlog.Tile) ([]byte, error) {
	db := o.db
	db.mu.Lock()
	defer db.mu.Unlock()
	return tlog.ReadTileData(t, db.hashReader())
}

// hashReader reads the stored hashes; db.mu must be held while it is used.
func (db *SumDB) hashReader() tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			if x < 0 || x >= int64(len(db.hashes)) {
				return nil, fmt.Errorf("hash %d not in a log of %d hashes", x, len(db.hashes))
			}
			out[i] = db.hashes[x]
		}
		return out, nil
	})
}

// falsifyFirstHash changes the first "h1:" hash in go.sum lines to another
// well-formed hash, so that the lines still parse but vouch for other content.
func falsifyFirstHash(lines []byte) []byte {
	i := bytes.Index(lines, []byte(" h1:"))
	if i < 0 {
		return lines
	}
	start := i + len(" h1:")
	end := start + bytes.IndexByte(lines[start:], '\n')
	if end < start {
		end = len(lines)
	}
	sum, err := base64.StdEncoding.DecodeString(string(lines[start:end]))
	if err != nil || len(sum) == 0 {
		return lines
	}
	sum[0] ^= 0xff
	out := append([]byte{}, lines[:start]...)
	out = append(out, base64.StdEncoding.EncodeToString(sum)...)
	return append(out, lines[end:]...)
}

// corruptSignature flips a bit of the signature (not of the key hash) on the
// last signature line of a signed note, so the note names the right key but
// fails verification.
func corruptSignature(msg []byte) []byte {
	text := strings.TrimSuffix(string(msg), "\n")
	i := strings.LastIndex(text, " ")
	if i < 0 {
		return msg
	}
	sig, err := base64.StdEncoding.DecodeString(text[i+1:])
	if err != nil || len(sig) <= 4 {
		return msg
	}
	sig[len(sig)-1] ^= 0x01
	return []byte(text[:i+1] + base64.StdEncoding.EncodeToString(sig) + "\n")
}
