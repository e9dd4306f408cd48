package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path/filepath"
	"strings"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/modkit/modkit/modnet/modproxy"

	// The drivers -store accepts: S3 and S3-compatible servers (MinIO,
	// Ceph, R2...), Google Cloud Storage, Azure Blob Storage, and a local
	// directory (mostly for trying things out).
	_ "gocloud.dev/blob/azureblob"
	_ "gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/gcsblob"
	_ "gocloud.dev/blob/s3blob"
)

// BlobStore is a [Store] in a bucket of an object store, through
// gocloud.dev/blob, so that several proxy instances can share it: each
// instance fills the bucket and serves from it, with no coordination
// between instances (module files are immutable; two instances filling
// one key write the same bytes).
//
// Put streams into a blob.Writer, which publishes the object only when it
// is closed after a complete copy (S3: a single PUT, or a multipart upload
// completed at the end), so a reader never sees part of an object, even
// if the instance dies mid-upload. Get returns a blob.Reader, which seeks
// by issuing ranged reads, as http.ServeContent needs for Range requests.
type BlobStore struct {
	// Bucket is the bucket; keys are the Store's keys as they are.
	Bucket *blob.Bucket
	// URL names the bucket in errors: scheme, bucket and path only.
	URL string
}

// OpenBlobStore opens the bucket at a gocloud.dev/blob URL:
// s3://bucket?region=us-east-1 (add endpoint=http://host:9000 and
// use_path_style=true for an S3-compatible server), gs://bucket,
// azblob://container, file:///dir. Credentials come from the environment
// as each provider's SDK reads them (AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY or a profile; GOOGLE_APPLICATION_CREDENTIALS;
// AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY...).
func OpenBlobStore(ctx context.Context, rawURL string) (*BlobStore, error) {
	b, err := blob.OpenBucket(ctx, rawURL)
	if err != nil {
		// gocloud.dev's message quotes the whole URL.
		msg := strings.ReplaceAll(err.Error(), rawURL, bucketName(rawURL))
		return nil, fmt.Errorf("opening bucket %s: %w", bucketName(rawURL), redacted{msg, err})
	}
	return &BlobStore{Bucket: b, URL: bucketName(rawURL)}, nil
}

// bucketName is a bucket URL without what may be secret: user info and
// query parameters (an Azure SAS token, say) stay out of logs and errors.
func bucketName(raw string) string {
	u, err := url.Parse(raw)
	if raw == "" || err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host + u.Path
}

// Get opens the object of key, to be read with ranged reads.
func (s *BlobStore) Get(ctx context.Context, key string) (io.ReadSeekCloser, ObjectInfo, error) {
	r, err := s.Bucket.NewReader(ctx, key, nil)
	if err != nil {
		return nil, ObjectInfo{}, s.error("reading", key, err)
	}
	return r, ObjectInfo{Size: r.Size(), ModTime: r.ModTime()}, nil
}

// Stat reads the object's attributes.
func (s *BlobStore) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	a, err := s.Bucket.Attributes(ctx, key)
	if err != nil {
		return ObjectInfo{}, s.error("reading attributes of", key, err)
	}
	return ObjectInfo{Size: a.Size, ModTime: a.ModTime}, nil
}

// Put uploads everything r yields as the object of key. If the copy
// fails, the upload is aborted and no object is published.
func (s *BlobStore) Put(ctx context.Context, key string, r io.Reader) error {
	// Canceling the writer's context is how gocloud.dev/blob aborts a
	// write; Close after a complete copy is what publishes it.
	wctx, abort := context.WithCancel(ctx)
	defer abort()
	w, err := s.Bucket.NewWriter(wctx, key, nil)
	if err != nil {
		return s.error("writing", key, err)
	}
	if _, err := io.Copy(w, r); err != nil {
		abort()
		w.Close()
		return s.error("writing", key, err)
	}
	if err := w.Close(); err != nil {
		return s.error("writing", key, err)
	}
	return nil
}

// Close closes the bucket.
func (s *BlobStore) Close() error { return s.Bucket.Close() }

// error says which object failed, and makes a missing object match
// fs.ErrNotExist, as the Store interface asks.
func (s *BlobStore) error(op, key string, err error) error {
	err = fmt.Errorf("%s %s in %s: %w", op, key, s.URL, err)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return notFound{err}
	}
	return err
}

// redacted is an error whose message had the bucket URL's query removed.
type redacted struct {
	msg string
	err error
}

func (e redacted) Error() string { return e.msg }
func (e redacted) Unwrap() error { return e.err }

// notFound is an error of the bucket that means "no such object".
type notFound struct{ err error }

func (e notFound) Error() string { return e.err.Error() }
func (e notFound) Unwrap() error { return e.err }

// Is makes the error match fs.ErrNotExist.
func (e notFound) Is(target error) bool { return target == fs.ErrNotExist }

// openStore returns the store -store names, or the disk store under the
// proxy's directory.
func openStore(cfg *config) (Store, error) {
	if cfg.store == "" {
		return &modproxy.DiskStore{Dir: filepath.Join(cfg.cacheDir, "store")}, nil
	}
	s, err := OpenBlobStore(context.Background(), cfg.store)
	if err != nil {
		return nil, fmt.Errorf("-store: %w", err)
	}
	return s, nil
}
