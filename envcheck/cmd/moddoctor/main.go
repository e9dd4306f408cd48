package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/modkit/modkit/envcheck"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// checkList is the repeatable -check flag.
type checkList []string

func (c *checkList) String() string     { return strings.Join(*c, ",") }
func (c *checkList) Set(s string) error { *c = append(*c, s); return nil }

// perCheck is the most any one check may take.
const perCheck = 2 * time.Second

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("moddoctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	jsonOut := fs.Bool("json", false, "print the report as one JSON object")
	offline := fs.Bool("offline", false, "skip the live probes: no network use")
	verbose := fs.Bool("v", false, "print details of passing checks, and durations")
	timeout := fs.Duration("timeout", 5*time.Second, "overall deadline")
	var checks checkList
	fs.Var(&checks, "check", "run only this check `ID` (or area, such as tls); repeatable")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: moddoctor [-json] [-offline] [-v] [-timeout D] [-check ID]...\n\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nchecks:\n")
		for _, c := range envcheck.Checks() {
			live := ""
			if c.Live {
				live = " (live)"
			}
			fmt.Fprintf(stderr, "  %-20s %s%s\n", c.ID, c.Doc, live)
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "moddoctor: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if *timeout <= 0 {
		fmt.Fprintf(stderr, "moddoctor: -timeout must be positive\n")
		return 2
	}
	for _, name := range checks {
		if !knownCheck(name) {
			fmt.Fprintf(stderr, "moddoctor: unknown check %q; run moddoctor -h for the list\n", name)
			return 2
		}
	}

	rep := envcheck.Run(ctx, envcheck.Options{
		Offline:      *offline,
		Checks:       checks,
		Timeout:      *timeout,
		CheckTimeout: min(perCheck, *timeout),
	})
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "moddoctor: %v\n", err)
			return 1
		}
	} else if err := rep.WriteText(stdout, *verbose); err != nil {
		fmt.Fprintf(stderr, "moddoctor: %v\n", err)
		return 1
	}
	if rep.Failed() {
		return 1
	}
	return 0
}

func knownCheck(name string) bool {
	for _, c := range envcheck.Checks() {
		if c.ID == name || strings.HasPrefix(c.ID, name+".") {
			return true
		}
	}
	return false
}
