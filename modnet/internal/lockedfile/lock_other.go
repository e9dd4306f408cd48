//go:build !(darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd || windows)

package lockedfile

import (
	"errors"
	"fmt"
	"os"
)

// errLockUnsupported reports a platform where modkit does not implement the
// go command's file locks. On AIX and Solaris the go command uses fcntl(2)
// locks and on Plan 9 exclusive-mode files; modkit refuses to write the
// module cache there rather than write it without exclusion.
var errLockUnsupported = fmt.Errorf("file locking compatible with the go command: %w", errors.ErrUnsupported)

func tryLockFile(f *os.File, exclusive bool) (bool, error) {
	return false, errLockUnsupported
}

func unlockFile(f *os.File) error {
	return errLockUnsupported
}
