//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package lockedfile

import (
	"errors"
	"os"
	"syscall"
)

// tryLockFile takes an flock(2) lock without blocking, the primitive of
// cmd/go/internal/lockedfile/internal/filelock on these systems. It reports
// false if another open file description holds a conflicting lock.
func tryLockFile(f *os.File, exclusive bool) (bool, error) {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		}
		return false, err
	}
}

func unlockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
