package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestBlobStoreFile runs the Store contract on gocloud.dev/blob's fileblob
// driver, which needs no server: the adapter's own behaviour (not found,
// ranged reads, atomic replacement, aborted uploads) everywhere.
func TestBlobStoreFile(t *testing.T) {
	s, err := OpenBlobStore(context.Background(), "file://"+filepath.ToSlash(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	testStoreContract(t, s, 1<<20)
}

// TestBlobStoreS3 runs the Store contract on a real S3 server, MinIO on
// loopback, with an object large enough for a multipart upload (the S3
// driver uploads in 5 MiB parts), whose aborted upload must leave nothing
// visible either.
func TestBlobStoreS3(t *testing.T) {
	m := startMinIO(t)
	s, err := OpenBlobStore(context.Background(), m.bucketURL(t, "contract"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	testStoreContract(t, s, 12<<20)
}

// testStoreContract checks what the proxy relies on from a Store, with
// objects of size bytes.
func testStoreContract(t *testing.T, s Store, size int) {
	ctx := context.Background()
	const key = "example.com/!m/@v/v1.0.0.zip"
	for _, err := range []error{
		func() error { _, _, err := s.Get(ctx, key); return err }(),
		func() error { _, err := s.Stat(ctx, key); return err }(),
	} {
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), key) {
			t.Errorf("missing object: %v; want an error matching fs.ErrNotExist naming %s", err, key)
		}
	}

	data := randomBytes(size, 1)
	if err := s.Put(ctx, key, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	oi, err := s.Stat(ctx, key)
	if err != nil || oi.Size != int64(size) || time.Since(oi.ModTime) > time.Hour {
		t.Errorf("Stat = %+v, %v; want size %d, modified just now", oi, err, size)
	}
	r, oi, err := s.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if oi.Size != int64(size) {
		t.Errorf("Get size %d, want %d", oi.Size, size)
	}
	// http.ServeContent's moves: the size from the end, then a range.
	if end, err := r.Seek(0, io.SeekEnd); err != nil || end != int64(size) {
		t.Errorf("Seek(0, SeekEnd) = %d, %v; want %d", end, err, size)
	}
	if _, err := r.Seek(int64(size/2), io.SeekStart); err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 1000)
	if _, err := io.ReadFull(r, part); err != nil || !bytes.Equal(part, data[size/2:size/2+1000]) {
		t.Errorf("ranged read at %d: %v, or the bytes differ", size/2, err)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if all, err := io.ReadAll(r); err != nil || !bytes.Equal(all, data) {
		t.Errorf("read from the start: %d bytes, %v; want the %d stored", len(all), err, size)
	}
	r.Close()

	// A replacement is seen whole.
	other := randomBytes(size, 2)
	if err := s.Put(ctx, key, bytes.NewReader(other)); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s, key); !bytes.Equal(got, other) {
		t.Errorf("after replacing the object, Get returns %d bytes that are not the new ones", len(got))
	}

	// An upload whose source fails near its end publishes nothing, and an
	// existing object stays as it was.
	broken := io.MultiReader(bytes.NewReader(data[:size-100]), errReader{errors.New("upstream cut")})
	if err := s.Put(ctx, "example.com/m/@v/v1.1.0.zip", broken); err == nil || !strings.Contains(err.Error(), "upstream cut") {
		t.Errorf("Put from a failing reader: %v; want its error", err)
	}
	if _, err := s.Stat(ctx, "example.com/m/@v/v1.1.0.zip"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after an aborted upload, Stat: %v; want not found", err)
	}
	broken = io.MultiReader(bytes.NewReader(data[:size-100]), errReader{errors.New("upstream cut")})
	if err := s.Put(ctx, key, broken); err == nil {
		t.Error("Put from a failing reader over an object succeeded")
	}
	if got := readAll(t, s, key); !bytes.Equal(got, other) {
		t.Errorf("an aborted upload changed the object it would have replaced")
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func readAll(t *testing.T, s Store, key string) []byte {
	t.Helper()
	r, _, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed)}).Read(b)
	return b
}

// minIO is a MinIO server on loopback, started by the test.
type minIO struct {
	endpoint string
	env      []string // AWS_* variables that reach it
}

const (
	minioUser     = "modkit-test"
	minioPassword = "modkit-test-secret"
)

// startMinIO starts the MinIO server MODKIT_MINIO names on a free
// loopback port with a data directory of the test's, and stops it at the
// end of the test.
func startMinIO(t *testing.T) *minIO {
	t.Helper()
	bin := os.Getenv("MODKIT_MINIO")
	if bin == "" {
		t.Skip("MODKIT_MINIO is not set: it names a MinIO server binary, which .ci/run builds with " +
			"'go install github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c'; set it to run the S3 tests")
	}
	dir := t.TempDir()
	addr, console := freeAddr(t), freeAddr(t)
	cmd := exec.Command(bin, "server", "--quiet", "--address", addr, "--console-address", console, filepath.Join(dir, "data"))
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+minioUser, "MINIO_ROOT_PASSWORD="+minioPassword,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off", "HOME="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	m := &minIO{endpoint: "http://" + addr, env: []string{
		"AWS_ACCESS_KEY_ID=" + minioUser, "AWS_SECRET_ACCESS_KEY=" + minioPassword,
		// Nothing but the environment: no profile files, no instance
		// metadata service (which is not on loopback).
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"),
		"AWS_EC2_METADATA_DISABLED=true",
	}}
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(m.endpoint + "/minio/health/live")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("MinIO exited: %v\n%s", err, out.Bytes())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("MinIO at %s not live after a minute:\n%s", addr, out.Bytes())
		}
	}
	for _, kv := range m.env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return m
}

// bucketURL creates a bucket and returns its gocloud.dev/blob URL.
func (m *minIO) bucketURL(t *testing.T, bucket string) string {
	t.Helper()
	c := s3.New(s3.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(minioUser, minioPassword, ""),
		BaseEndpoint: aws.String(m.endpoint),
		UsePathStyle: true,
	})
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("creating bucket %s: %v", bucket, err)
	}
	return fmt.Sprintf("s3://%s?region=us-east-1&endpoint=%s&use_path_style=true", bucket, m.endpoint)
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestStoreFlag: -store with a scheme no driver serves is a configuration
// error naming the flag and the bucket, never the URL's query (where a
// secret may be).
func TestStoreFlag(t *testing.T) {
	var out strings.Builder
	args := []string{"-cache", t.TempDir(), "-store", "nope://bucket?token=SECRET", "-upstream", "off", "-gosumdb", "off"}
	if code := run(context.Background(), args, testEnviron(t), &out, nil); code != 1 ||
		!strings.Contains(out.String(), `-store: opening bucket nope://bucket: `) || strings.Contains(out.String(), "SECRET") {
		t.Errorf("run %q = %d, output:\n%s\nwant 1 and the bucket named without its query", args, code, out.String())
	}
}
