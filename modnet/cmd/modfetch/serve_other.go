//go:build !unix

package main

import (
	"errors"
	"io"
)

// daemonize is not supported here: run modfetch serve -foreground under a
// service manager instead.
func daemonize(args []string, stdout, stderr io.Writer) error {
	return errors.New("going to the background is not supported on this system; use -foreground")
}

// detachStdio has nothing to do without daemonize.
func detachStdio(verbose bool) error { return nil }
