package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
)

// runExec runs a command with its module traffic going through a module
// proxy on loopback, started for it and stopped when it exits: the go
// command's own downloads (go mod tidy, go get, go build, ...) then get
// modkit's retries, resumes, hedging and read-ahead.
func runExec(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("exec", stderr)
	verbose := fs.Bool("v", false, "print each request the server answers and each retry, and always the summary")
	readAhead := fs.Bool("readahead", true, "fetch go.mod files of requirements, and what go.sum lists, ahead of the requests")
	toolchain := fs.Bool("toolchain", true, "fetch the toolchain the go command will switch to (go.mod's go or toolchain line, GOTOOLCHAIN) before it asks")
	aheadLatency := fs.Duration("readahead-latency", defaultAheadLatency, "read ahead only while upstream round trips take at least this long (0: at any latency)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() == 0 || *aheadLatency < 0 {
		return errUsage
	}
	opts := proxyOptions{readAhead: *readAhead, aheadLatency: *aheadLatency}
	if *verbose {
		opts.verbose = stderr
	}
	p, err := startProxy(opts)
	if err != nil {
		return err
	}
	dir := commandDir(fs.Args())
	if *toolchain {
		p.fetchToolchain(dir)
	}
	p.readAheadModule(dir)

	cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	cmd.Env = p.childEnv(os.Environ())
	// Signals for the command are passed on; a terminal's interrupt
	// reaches it directly as well, being sent to the whole process group.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwardedSignals...)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		p.close()
		return startError(err)
	}
	forwarded := make(chan struct{})
	go func() {
		defer close(forwarded)
		for sig := range sigs {
			cmd.Process.Signal(sig)
		}
	}()
	waitErr := cmd.Wait()
	signal.Stop(sigs)
	close(sigs)
	<-forwarded
	p.close()
	if line := p.stats.summary(*verbose); line != "" {
		fmt.Fprintf(stderr, "modfetch exec: %s\n", line)
	}
	if note := p.aheadNote(); *verbose && note != "" {
		fmt.Fprintf(stderr, "modfetch: %s\n", note)
	}

	var ee *exec.ExitError
	switch {
	case waitErr == nil:
		return nil
	case errors.As(waitErr, &ee):
		return exitStatus(ee.ProcessState)
	}
	return waitErr
}

// errExit carries the exit status modfetch passes on, without a message
// of its own.
type errExit struct{ code int }

func (e errExit) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// startError is the failure to start the command, with env(1)'s exit
// statuses: 127 when it is not found, 126 when it cannot be run.
func startError(err error) error {
	code := 126
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
		code = 127
	}
	return errExitMessage{errExit{code}, err}
}

// errExitMessage is an exit status with a message to print first.
type errExitMessage struct {
	errExit
	err error
}

func (e errExitMessage) Error() string { return e.err.Error() }
func (e errExitMessage) Unwrap() error { return e.errExit }

// commandDir is the directory the command works in: the current one, or
// the one a go command is told to change to with -C, its first flag.
func commandDir(args []string) string {
	dir, _ := os.Getwd()
	base := strings.TrimSuffix(filepath.Base(args[0]), ".exe")
	if base != "go" || len(args) < 2 {
		return dir
	}
	c, ok := strings.CutPrefix(args[1], "-C=")
	if !ok && args[1] == "-C" && len(args) > 2 {
		c, ok = args[2], true
	}
	if !ok {
		return dir
	}
	if !filepath.IsAbs(c) {
		c = filepath.Join(dir, c)
	}
	return c
}
