package modproxy

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiskStore(t *testing.T) {
	ctx := context.Background()
	s := &DiskStore{Dir: filepath.Join(t.TempDir(), "store")}
	const key = "example.com/!upper/@v/list"

	if _, _, err := s.Get(ctx, key); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Get of a missing key: %v, want fs.ErrNotExist", err)
	}
	if _, err := s.Stat(ctx, key); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat of a missing key: %v, want fs.ErrNotExist", err)
	}
	for _, content := range []string{"v1.0.0\n", "v1.0.0\nv1.1.0\n"} {
		if err := s.Put(ctx, key, strings.NewReader(content)); err != nil {
			t.Fatal(err)
		}
		f, oi, err := s.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(f)
		f.Close()
		if string(b) != content || oi.Size != int64(len(content)) || oi.ModTime.IsZero() {
			t.Errorf("Get = %q, %+v; want %q", b, oi, content)
		}
	}
	// The store is a GOPROXY tree, with nothing left behind by writes.
	entries, _ := os.ReadDir(filepath.Join(s.Dir, "example.com", "!upper", "@v"))
	if len(entries) != 1 || entries[0].Name() != "list" {
		t.Errorf("directory holds %v, want only list", entries)
	}

	for _, bad := range []string{"", ".", "../escape", "/abs", "a//b", "a/./b", `a\b`, "a/"} {
		if err := s.Put(ctx, bad, strings.NewReader("x")); err == nil || !strings.Contains(err.Error(), "invalid store key") {
			t.Errorf("Put(%q) = %v, want an invalid key error", bad, err)
		}
		if _, _, err := s.Get(ctx, bad); err == nil {
			t.Errorf("Get(%q) succeeded", bad)
		}
	}
}

// TestDiskStoreLinksFiles: a file put from its start is linked, not
// copied, so a zip in the module cache is not kept twice.
func TestDiskStoreLinksFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "v1.0.0.zip")
	if err := os.WriteFile(src, []byte("zip content"), 0o444); err != nil {
		t.Fatal(err)
	}
	s := &DiskStore{Dir: filepath.Join(dir, "store")}
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := s.Put(ctx, "m/@v/v1.0.0.zip", f); err != nil {
		t.Fatal(err)
	}
	a, _ := os.Stat(src)
	b, err := os.Stat(filepath.Join(s.Dir, "m", "@v", "v1.0.0.zip"))
	if err != nil || !os.SameFile(a, b) {
		t.Errorf("stored file is not a link to the source: %v", err)
	}

	// Read partly, the file is copied from where it stands.
	if _, err := f.Seek(4, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "m/@v/tail", f); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(s.Dir, "m", "@v", "tail")); string(got) != "content" {
		t.Errorf("Put of a file read partly stored %q, want %q", got, "content")
	}
}
