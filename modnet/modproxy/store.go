package modproxy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A Store keeps the files a [Server] serves, under slash-separated keys
// that are their paths in the GOPROXY protocol:
//
//	<escaped path>/@v/<escaped version>.info   .mod, .zip: immutable
//	<escaped path>/@v/list                      last good answer
//	<escaped path>/@latest                      last good answer
//	sumdb/<name>/lookup/<path>@<version>        checksum database answers
//	sumdb/<name>/tile/...                       immutable
//	sumdb/<name>/latest                         last good signed tree head
//
// Module versions are immutable, so a key for one is written once; the
// others are replaced as fresher answers arrive.
//
// [DiskStore] keeps them on disk; a Server without a Store keeps them in
// memory. Several proxy instances behind a load
// balancer share one object store instead: an implementation over
// gocloud.dev/blob (whose Reader is an io.ReadSeekCloser that seeks with
// ranged reads, and whose Writer publishes an object only when closed)
// covers S3, GCS and Azure; the providers' own clients
// (github.com/aws/aws-sdk-go-v2/service/s3, cloud.google.com/go/storage)
// work as well. No coordination between instances is needed: two instances
// filling the same key write the same bytes.
type Store interface {
	// Get opens the object stored under key for reading. A missing key is
	// an error matching fs.ErrNotExist.
	Get(ctx context.Context, key string) (io.ReadSeekCloser, ObjectInfo, error)
	// Stat describes the object stored under key, like Get.
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// Put stores everything r yields under key, replacing any object there
	// atomically: a concurrent Get sees the old object or the new one,
	// never a part.
	Put(ctx context.Context, key string, r io.Reader) error
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Size    int64
	ModTime time.Time // when it was stored
}

// DiskStore is a [Store] in a local directory, one file per key at the
// key's path: the directory is then a GOPROXY tree too, usable as
// GOPROXY=file://<Dir> when the proxy is down.
type DiskStore struct {
	// Dir is the root directory; it is created as needed.
	Dir string
}

// file returns the file name of key, refusing keys that could reach
// outside Dir.
func (s *DiskStore) file(key string) (string, error) {
	if !fs.ValidPath(key) || key == "." || strings.Contains(key, `\`) {
		return "", fmt.Errorf("invalid store key %q", key)
	}
	return filepath.Join(s.Dir, filepath.FromSlash(key)), nil
}

// Get opens the file of key.
func (s *DiskStore) Get(ctx context.Context, key string) (io.ReadSeekCloser, ObjectInfo, error) {
	name, err := s.file(key)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, ObjectInfo{}, err
	}
	return f, ObjectInfo{Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Stat describes the file of key.
func (s *DiskStore) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	name, err := s.file(key)
	if err != nil {
		return ObjectInfo{}, err
	}
	fi, err := os.Stat(name)
	if err != nil {
		return ObjectInfo{}, err
	}
	return ObjectInfo{Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Put writes r to a temporary file beside key's and renames it into place.
// When r is a file read from its start and on the same file system, such
// as a zip in the proxy's module cache, it is hard-linked instead of
// copied, so a module's zip is kept on disk once.
func (s *DiskStore) Put(ctx context.Context, key string, r io.Reader) (err error) {
	name, err := s.file(key)
	if err != nil {
		return err
	}
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+filepath.Base(name)+".tmp"+strconv.FormatUint(rand.Uint64(), 36))
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if f, ok := r.(*os.File); ok && atStart(f) && os.Link(f.Name(), tmp) == nil {
		return os.Rename(tmp, name)
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, contextReader{ctx, r}); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

func atStart(f *os.File) bool {
	off, err := f.Seek(0, io.SeekCurrent)
	return err == nil && off == 0
}

// contextReader stops a copy when ctx is done.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// memStore is a Store in memory, the default of a Server without one.
type memStore struct {
	mu sync.Mutex
	m  map[string]memObject
}

type memObject struct {
	data []byte
	info ObjectInfo
}

func (s *memStore) Get(ctx context.Context, key string) (io.ReadSeekCloser, ObjectInfo, error) {
	s.mu.Lock()
	o, ok := s.m[key]
	s.mu.Unlock()
	if !ok {
		return nil, ObjectInfo{}, &fs.PathError{Op: "get", Path: key, Err: fs.ErrNotExist}
	}
	return nopCloser{bytes.NewReader(o.data)}, o.info, nil
}

func (s *memStore) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	_, oi, err := s.Get(ctx, key)
	return oi, err
}

func (s *memStore) Put(ctx context.Context, key string, r io.Reader) error {
	data, err := io.ReadAll(contextReader{ctx, r})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.m[key] = memObject{data, ObjectInfo{Size: int64(len(data)), ModTime: time.Now()}}
	s.mu.Unlock()
	return nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }
