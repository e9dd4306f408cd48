//go:build !unix

package main

import "os"

// forwardedSignals are passed on to the command modfetch exec runs.
var forwardedSignals = []os.Signal{os.Interrupt}

// exitStatus passes on the command's exit status.
func exitStatus(ps *os.ProcessState) error { return errExit{ps.ExitCode()} }
