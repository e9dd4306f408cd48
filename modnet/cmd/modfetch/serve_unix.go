//go:build unix

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// daemonize starts modfetch with args in a session of its own, its
// standard input and output away from the terminal, copies what it prints
// until it lets go of its standard output (the variables, once it
// listens), and returns, leaving it running: ssh-agent's way, so that
// eval "$(modfetch serve)" returns. Its standard error is this process's
// until then, so a failure to start is reported here.
func daemonize(args []string, stdout, stderr io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), detachEnv+"=1")
	cmd.Stdout, cmd.Stderr = w, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return err
	}
	var out bytes.Buffer
	io.Copy(&out, r)
	if out.Len() == 0 {
		// It ended without printing anything: it has said why.
		var ee *exec.ExitError
		if err := cmd.Wait(); errors.As(err, &ee) {
			return errExit{ee.ExitCode()}
		} else if err != nil {
			return err
		}
		return errors.New("the server exited at once")
	}
	if _, err := stdout.Write(out.Bytes()); err != nil {
		return err
	}
	return cmd.Process.Release()
}

// detachStdio points standard output, and standard error unless verbose,
// at /dev/null, so that a background server holds no terminal or pipe.
func detachStdio(verbose bool) error {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer null.Close()
	fds := []int{1}
	if !verbose {
		fds = append(fds, 2)
	}
	for _, fd := range fds {
		if err := unix.Dup2(int(null.Fd()), fd); err != nil {
			return fmt.Errorf("detaching from the terminal: %w", err)
		}
	}
	return nil
}
