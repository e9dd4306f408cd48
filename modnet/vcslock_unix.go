//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package modnet

import (
	"io/fs"
	"os"
	"syscall"
)

// vcsFlock takes an exclusive flock(2) on an open lock file, the lock the
// go command's lockedfile.Mutex takes on these systems, so that modkit and a
// go command sharing a VCS work directory take turns.
func vcsFlock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			if err != nil {
				return &fs.PathError{Op: "flock", Path: f.Name(), Err: err}
			}
			return nil
		}
	}
}

func vcsLockFile(f *os.File) error   { return vcsFlock(f, syscall.LOCK_EX) }
func vcsUnlockFile(f *os.File) error { return vcsFlock(f, syscall.LOCK_UN) }
