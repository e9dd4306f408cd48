// Package lockedfile locks files exactly as cmd/go/internal/lockedfile
// does, so that modkit and a go command working on the same module cache
// (its lock files, its VCS work directories) exclude each other: the same
// files, the same primitive (flock(2) on Unix, LockFileEx on Windows),
// exclusive for writers, shared for readers. Unlike the go command, which
// waits for a lock in a blocking system call, it polls a non-blocking
// attempt with backoff, so that a context can end the wait. It is not a
// general-purpose locking library: no byte ranges, no lock upgrades.
package lockedfile
