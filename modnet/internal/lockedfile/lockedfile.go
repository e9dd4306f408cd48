package lockedfile

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// lockPollMax bounds the backoff between attempts to take a busy lock.
const lockPollMax = 50 * time.Millisecond

// A File is an open file holding an advisory lock, as
// cmd/go/internal/lockedfile.File. Close releases the lock.
type File struct {
	*os.File
	closed bool
}

// OpenFile opens name and locks it, as lockedfile.OpenFile: exclusively if
// flag opens it for writing, shared otherwise. O_TRUNC is applied only once
// the lock is held, so that a reader never sees a file truncated by a writer
// that is still waiting.
func OpenFile(ctx context.Context, name string, flag int, perm fs.FileMode) (*File, error) {
	f, err := os.OpenFile(name, flag&^os.O_TRUNC, perm)
	if err != nil {
		return nil, err
	}
	exclusive := flag&(os.O_WRONLY|os.O_RDWR) != 0
	if err := lockFile(ctx, f, exclusive); err != nil {
		f.Close()
		return nil, err
	}
	if flag&os.O_TRUNC != 0 {
		if err := f.Truncate(0); err != nil {
			// lockedfile ignores truncation failures on non-regular files.
			if fi, statErr := f.Stat(); statErr != nil || fi.Mode().IsRegular() {
				unlockFile(f)
				f.Close()
				return nil, err
			}
		}
	}
	return &File{File: f}, nil
}

// Close unlocks and closes the file. Unlocking comes first, while the
// descriptor is still valid.
func (f *File) Close() error {
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.Name(), Err: fs.ErrClosed}
	}
	f.closed = true
	err := unlockFile(f.File)
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	return err
}

// lockFile takes the lock on f, polling with backoff while another process
// (or another open file description in this one) holds it. It tries at least
// once, even with a done context.
func lockFile(ctx context.Context, f *os.File, exclusive bool) error {
	op := "RLock"
	if exclusive {
		op = "Lock"
	}
	delay := time.Millisecond
	var timer *time.Timer
	for {
		ok, err := tryLockFile(f, exclusive)
		if err != nil {
			return &fs.PathError{Op: op, Path: f.Name(), Err: err}
		}
		if ok {
			return nil
		}
		if timer == nil {
			timer = time.NewTimer(delay)
			defer timer.Stop()
		} else {
			timer.Reset(delay)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for lock on %s: %w", f.Name(), context.Cause(ctx))
		case <-timer.C:
		}
		delay = min(2*delay, lockPollMax)
	}
}

// Lock locks the well-known lock file path, creating it if needed, as
// lockedfile.MutexAt(path).Lock does. The caller must call unlock.
func Lock(ctx context.Context, path string) (unlock func(), err error) {
	f, err := OpenFile(ctx, path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, err
	}
	return func() { f.Close() }, nil
}

// Read reads a whole file under a shared lock (lockedfile.Read).
func Read(ctx context.Context, name string) ([]byte, error) {
	f, err := OpenFile(ctx, name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// Write replaces a file's content under an exclusive lock
// (lockedfile.Write). Like the go command, it is not atomic: a reader may
// see an empty file between creation and the write, and callers that read
// such files treat empty as missing.
func Write(ctx context.Context, name string, data []byte, perm fs.FileMode) error {
	f, err := OpenFile(ctx, name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
