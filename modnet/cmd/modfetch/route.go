package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/modkit/modkit/internal/web"
	"github.com/modkit/modkit/modnet"
)

func runRoute(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("route", stderr)
	asJSON := fs.Bool("json", false, "print one JSON object per module")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() == 0 {
		return errUsage
	}
	env, err := modnet.LoadEnv()
	if err != nil {
		return err
	}
	var failed error
	for _, path := range fs.Args() {
		r, err := env.Route(path)
		if err != nil {
			return err
		}
		if *asJSON {
			js, _ := json.MarshalIndent(r, "", "\t")
			fmt.Fprintf(stdout, "%s\n", js)
		} else {
			printRoute(stdout, r)
		}
		if db := r.ChecksumDB; db.Verify && db.Err != nil && failed == nil {
			failed = db.Err
		}
	}
	return failed
}

func printRoute(w io.Writer, r *modnet.Route) {
	fmt.Fprintf(w, "%s\n", r.Module)
	for i, s := range r.Sources {
		switch {
		case s.Kind != modnet.KindProxy:
			fmt.Fprintf(w, "  %d. %s\n", i+1, s.Kind)
		case i == len(r.Sources)-1:
			fmt.Fprintf(w, "  %d. proxy %s\n", i+1, s.Redacted())
		case s.Fallback == modnet.FallbackAny:
			fmt.Fprintf(w, "  %d. proxy %s (on any error, try the next)\n", i+1, s.Redacted())
		default:
			fmt.Fprintf(w, "  %d. proxy %s (only if not found, try the next)\n", i+1, s.Redacted())
		}
	}
	db := r.ChecksumDB
	switch {
	case db.Verify && db.Err != nil:
		fmt.Fprintf(w, "  checksum database: error: %v\n", db.Err)
	case db.Verify && db.Explicit:
		fmt.Fprintf(w, "  checksum database: %s at %s\n", db.Name, web.Redact(db.URL))
	case db.Verify:
		fmt.Fprintf(w, "  checksum database: %s (through a proxy that supports it, else %s)\n", db.Name, web.Redact(db.URL))
	default:
		fmt.Fprintf(w, "  checksum database: not consulted: %s\n", db.Reason)
	}
	var flags []string
	if r.NoProxy {
		flags = append(flags, "GONOPROXY matches: fetched direct")
	}
	if r.Private {
		flags = append(flags, "private (GOVCS private rules)")
	}
	if r.Insecure {
		flags = append(flags, "insecure (GOINSECURE: direct may use http)")
	}
	if len(flags) > 0 {
		fmt.Fprintf(w, "  %s\n", strings.Join(flags, "; "))
	}
}
