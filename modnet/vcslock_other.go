//go:build !(darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd)

package modnet

import "os"

// On other systems modkit serialises VCS work directories within its own
// process only; a go command running at the same time is not excluded.
func vcsLockFile(*os.File) error   { return nil }
func vcsUnlockFile(*os.File) error { return nil }
