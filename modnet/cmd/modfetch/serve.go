package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// detachEnv marks the server that a background 'modfetch serve' starts:
// once it has printed the variables, it lets go of its standard output
// and error, so that the parent (and the shell's $(...)) sees the end.
const detachEnv = "MODFETCH_SERVE_DETACH"

// runServe runs the server of modfetch exec for a shell session or a CI
// job: it prints the variables that send the go command to it, as
// ssh-agent does, and serves until SIGINT or SIGTERM.
func runServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	listen := fs.String("listen", "127.0.0.1:0", "`address` to listen on; it must be a loopback address unless -allow-remote")
	cacheDir := fs.String("cache", "", "`directory` the server keeps what it fetched in, across runs (default: a temporary one, removed on exit)")
	allowRemote := fs.Bool("allow-remote", false, "allow a -listen address other hosts can reach")
	foreground := fs.Bool("foreground", false, "stay in the foreground after printing the variables, instead of going to the background as ssh-agent does")
	format := fs.String("format", "sh", "how to print the variables: sh (for eval in sh, bash, zsh) or env (NAME=value lines, for $GITHUB_ENV or docker --env-file)")
	verbose := fs.Bool("v", false, "print each request the server answers and each retry on standard error, and the summary on exit")
	readAhead := fs.Bool("readahead", true, "fetch go.mod files of requirements, and what the current module's go.sum lists, ahead of the requests")
	toolchain := fs.Bool("toolchain", true, "fetch the toolchain the go command will switch to in the current directory (go.mod's go or toolchain line, GOTOOLCHAIN) ahead")
	aheadLatency := fs.Duration("readahead-latency", defaultAheadLatency, "read ahead only while upstream round trips take at least this long (0: at any latency)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 0 || (*format != "sh" && *format != "env") || *aheadLatency < 0 {
		return errUsage
	}
	if !*allowRemote {
		if err := checkLoopback(*listen); err != nil {
			return err
		}
	}
	if !*foreground && os.Getenv(detachEnv) == "" {
		// The server is this command again, in the foreground, detached.
		return daemonize(append([]string{"serve", "-foreground"}, args...), stdout, stderr)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := proxyOptions{listen: *listen, cacheDir: *cacheDir, readAhead: *readAhead, aheadLatency: *aheadLatency}
	if *verbose {
		opts.verbose = stderr
	}
	p, err := startProxy(opts)
	if err != nil {
		return err
	}
	defer p.close()
	if dir, err := os.Getwd(); err == nil {
		if *toolchain {
			p.fetchToolchain(dir)
		}
		p.readAheadModule(dir)
	}
	printExports(stdout, p.exports(), os.Getpid(), *format)
	if os.Getenv(detachEnv) != "" {
		if err := detachStdio(*verbose); err != nil {
			return err
		}
	}

	select {
	case <-ctx.Done():
	case err := <-p.served:
		return fmt.Errorf("serving: %w", err)
	}
	p.close()
	if line := p.stats.summary(*verbose); line != "" {
		fmt.Fprintf(stderr, "modfetch serve: %s\n", line)
	}
	if note := p.aheadNote(); *verbose && note != "" {
		fmt.Fprintf(stderr, "modfetch: %s\n", note)
	}
	return nil
}

// checkLoopback refuses an address other hosts can reach: the server
// fetches with its user's credentials.
func checkLoopback(listen string) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("-listen %s: %w", listen, err)
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("-listen %s is not a loopback address: anyone who can reach it could download through it with your credentials; use -allow-remote to serve it anyway", listen)
}

// printExports prints the variables for the go command, and the server's
// process ID, as sh commands to eval (ssh-agent's form) or NAME=value
// lines.
func printExports(w io.Writer, vars map[string]string, pid int, format string) {
	vars = maps.Clone(vars)
	vars["MODFETCH_SERVE_PID"] = strconv.Itoa(pid)
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		if format == "env" {
			fmt.Fprintf(w, "%s=%s\n", k, vars[k])
		} else {
			fmt.Fprintf(w, "%s=%s; export %s;\n", k, shellQuote(vars[k]), k)
		}
	}
	if format == "sh" {
		fmt.Fprintf(w, "echo modfetch serve pid %d;\n", pid)
	}
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
