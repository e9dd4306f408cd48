package lockedfile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestExclusion: a writer's lock excludes other writers and readers until
// it is released; readers share; a waiter gives up when its context ends.
func TestExclusion(t *testing.T) {
	name := filepath.Join(t.TempDir(), "lock")
	ctx := context.Background()
	unlock, err := Lock(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := Lock(short, name); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second Lock while held: %v, want the context's deadline", err)
	}
	if _, err := OpenFile(short, name, os.O_RDONLY, 0); err == nil {
		t.Error("a reader got the file while a writer held it")
	}
	got := make(chan error, 1)
	go func() {
		u, err := Lock(ctx, name)
		if err == nil {
			u()
		}
		got <- err
	}()
	unlock()
	if err := <-got; err != nil {
		t.Errorf("Lock after release: %v", err)
	}

	r1, err := OpenFile(ctx, name, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := OpenFile(ctx, name, os.O_RDONLY, 0)
	if err != nil {
		t.Fatalf("second reader: %v", err)
	}
	r1.Close()
	r2.Close()
	if err := r2.Close(); err == nil {
		t.Error("second Close succeeded")
	}
}

func TestReadWrite(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	ctx := context.Background()
	if err := Write(ctx, name, []byte("one two"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := Write(ctx, name, []byte("three"), 0o666); err != nil {
		t.Fatal(err)
	}
	if data, err := Read(ctx, name); err != nil || string(data) != "three" {
		t.Errorf("Read = %q, %v; want the last write, truncated", data, err)
	}
}
