package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// errUsage marks a command-line mistake: exit status 2.
var errUsage = errors.New("usage")

type command struct {
	name  string
	usage string
	run   func(args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"route", "route [-json] MODULE...", runRoute},
	{"download", "download [-json] [-x] [-noretry] MODULE@VERSION...", runDownload},
	{"prefetch", "prefetch [-json] [-j N] [-modfile PATH] [-extract=false] [-toolchain=false] [-gosum=false]", runPrefetch},
	{"exec", "exec [-v] [-readahead=false] [--] COMMAND [ARG...]", runExec},
	{"serve", "serve [-listen ADDR] [-cache DIR] [-allow-remote] [-foreground] [-format sh|env] [-v] [-readahead=false]", runServe},
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(args[1:], stdout, stderr)
			var exit errExit
			switch {
			case err == nil:
				return 0
			case errors.Is(err, errUsage), errors.Is(err, flag.ErrHelp):
				fmt.Fprintf(stderr, "usage: modfetch %s\n", c.usage)
				return 2
			case errors.As(err, new(errSilent)):
				return 1
			case errors.As(err, &exit):
				if _, quiet := err.(errExit); !quiet {
					fmt.Fprintf(stderr, "modfetch %s: %v\n", c.name, err)
				}
				return exit.code
			default:
				fmt.Fprintf(stderr, "modfetch %s: %v\n", c.name, err)
				return 1
			}
		}
	}
	fmt.Fprintf(stderr, "modfetch: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage:")
	for _, c := range commands {
		fmt.Fprintf(w, "\tmodfetch %s\n", c.usage)
	}
}

// newFlagSet returns a flag set that reports errors to the caller instead of
// exiting, so run decides the exit status.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}
