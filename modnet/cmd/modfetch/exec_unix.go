//go:build unix

package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"
)

// forwardedSignals are passed on to the command modfetch exec runs.
var forwardedSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// exitStatus passes on how the command ended: its exit status, or the
// signal that killed it, raised again so that a shell sees modfetch
// killed by it too (for the signals that end a Go program that way; the
// others, and a signal that does not end modfetch, give 128+n as shells
// report it).
func exitStatus(ps *os.ProcessState) error {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return errExit{ps.ExitCode()}
	}
	sig := ws.Signal()
	switch sig {
	case syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP:
		if signal.Ignored(sig) {
			break
		}
		signal.Reset(sig)
		syscall.Kill(os.Getpid(), sig)
		// The runtime's handler ends the process on another thread; give
		// it the time, rather than exit first with a status of our own.
		time.Sleep(time.Second)
	}
	return errExit{128 + int(sig)}
}
