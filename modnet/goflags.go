package modnet

import (
	"fmt"
	"strings"

	"github.com/modkit/modkit/internal/quoted"
)

// splitGOFLAGS splits a GOFLAGS value into flags as the go command does
// (cmd/go/internal/base.InitGOFLAGS with cmd/internal/quoted.Split): fields
// are separated by spaces, tabs or newlines; a field may be wrapped in single
// or double quotes (no escapes inside). Every field must look like -x, --x,
// -x=value or --x=value; anything else is an error naming the field.
func splitGOFLAGS(s string) ([]string, error) {
	flags, err := quoted.Split(s)
	if err != nil {
		return nil, fmt.Errorf("parsing $GOFLAGS: %w", err)
	}
	for _, f := range flags {
		if !strings.HasPrefix(f, "-") || f == "-" || f == "--" || strings.HasPrefix(f, "---") ||
			strings.HasPrefix(f, "-=") || strings.HasPrefix(f, "--=") {
			return nil, fmt.Errorf("parsing $GOFLAGS: non-flag %q (each word must be a flag like -mod=mod; use -flag=value, not -flag value)", f)
		}
	}
	return flags, nil
}

// GoFlags returns the Env's GOFLAGS split into flags as the go command
// splits them (cmd/go/internal/base.InitGOFLAGS with
// cmd/internal/quoted.Split): fields are separated by spaces, tabs or
// newlines; a field may be wrapped in single or double quotes (no escapes
// inside). Every field must look like -x, --x, -x=value or --x=value;
// anything else is an error naming the field.
func (e *Env) GoFlags() ([]string, error) { return splitGOFLAGS(e.Get("GOFLAGS")) }

// GoFlag returns the value of one flag in GOFLAGS as the go command would
// apply it: the last occurrence wins, "-name" alone means "true" (the go
// command's boolean form), and ok is false when GOFLAGS does not set it.
// Both -name and --name spellings count.
func (e *Env) GoFlag(name string) (value string, ok bool, err error) {
	flags, err := e.GoFlags()
	if err != nil {
		return "", false, err
	}
	for _, f := range flags {
		f = strings.TrimPrefix(strings.TrimPrefix(f, "-"), "-")
		n, v, hasValue := strings.Cut(f, "=")
		if n != name {
			continue
		}
		if !hasValue {
			v = "true"
		}
		value, ok = v, true
	}
	return value, ok, nil
}

// ModCacheRW reports whether GOFLAGS contains -modcacherw, which makes the go
// command leave extracted module directories writable.
func (e *Env) ModCacheRW() bool {
	v, ok, err := e.GoFlag("modcacherw")
	if err != nil || !ok {
		return false
	}
	switch v {
	case "1", "t", "T", "true", "TRUE", "True":
		return true
	}
	return false
}
