package goauth

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/modkit/modkit/internal/quoted"
)

// A Kind is the method of one GOAUTH command ('go help goauth').
type Kind int

const (
	// Netrc reads credentials from the .netrc file.
	Netrc Kind = iota
	// Git asks 'git credential fill', run in a work tree.
	Git
	// Custom runs a command that prints credentials for URL prefixes.
	Custom
	// Off sends no credentials; it stands alone.
	Off
)

// A Command is one ';'-separated entry of GOAUTH.
type Command struct {
	Kind     Kind
	Text     string   // the entry, trimmed, for messages
	Dir      string   // Git: the working directory
	Argv     []string // Custom: the command line, split as the go command splits it
	SplitErr error    // Custom: why the command line cannot be split; it fails when run
}

// The go command's complaints about a GOAUTH entry, which an *EntryError
// wraps (cmd/go/internal/auth.runGoAuth).
var (
	ErrEmptyCommand = errors.New("GOAUTH encountered an empty command")
	ErrOffCombined  = errors.New("GOAUTH=off cannot be combined with other authentication commands")
	ErrGitDir       = errors.New("GOAUTH=git dir method requires an absolute path to the git working directory")
)

// An EntryError reports a GOAUTH entry the go command rejects, with its
// wording and what to do.
type EntryError struct {
	Entry string // the entry, trimmed
	Err   error  // the go command's complaint; matches one of the Err variables, or a failed stat
	Fix   string // what to do
}

func (e *EntryError) Error() string { return e.Err.Error() }
func (e *EntryError) Unwrap() error { return e.Err }

// Split returns the ';'-separated entries of goauth, trimmed, as
// cmd/go/internal/auth.runGoAuth splits them.
func Split(goauth string) []string {
	entries := strings.Split(goauth, ";")
	for i, e := range entries {
		entries[i] = strings.TrimSpace(e)
	}
	return entries
}

// UsesNetrc reports whether goauth makes the go command read .netrc.
func UsesNetrc(goauth string) bool {
	for _, e := range Split(goauth) {
		if e == "netrc" {
			return true
		}
	}
	return false
}

// Parse splits goauth into commands and rejects what the go command
// rejects, with its wording. Like the go command it checks the entries
// last to first, so the same error wins. It returns nil commands for
// GOAUTH=off.
func Parse(goauth string) ([]Command, error) {
	entries := Split(goauth)
	cmds := make([]Command, len(entries))
	for i := len(entries) - 1; i >= 0; i-- {
		c, err := ParseEntry(entries[i], len(entries))
		if err != nil {
			return nil, err
		}
		if c.Kind == Off {
			return nil, nil
		}
		cmds[i] = c
	}
	return cmds, nil
}

// ParseEntry parses one trimmed entry of a GOAUTH that has n entries, as
// Parse does; the error is an *EntryError. A doctor that reports every bad
// entry calls it for each.
func ParseEntry(entry string, n int) (Command, error) {
	words := strings.Fields(entry)
	bad := func(err error, fix string) (Command, error) {
		return Command{}, &EntryError{Entry: entry, Err: err, Fix: fix}
	}
	if len(words) == 0 {
		return bad(ErrEmptyCommand, "remove the empty entry between ';' separators")
	}
	c := Command{Text: entry}
	switch words[0] {
	case "off":
		if n != 1 {
			return bad(ErrOffCombined, "use GOAUTH=off alone to send no credentials, or remove off")
		}
		c.Kind = Off
	case "netrc":
		c.Kind = Netrc
	case "git":
		const fix = "use 'git /absolute/path/to/a/git/work/tree'"
		if len(words) != 2 {
			return bad(ErrGitDir, fix)
		}
		c.Kind, c.Dir = Git, words[1]
		if !filepath.IsAbs(c.Dir) {
			return bad(fmt.Errorf("%w, dir is not absolute", ErrGitDir), fix)
		}
		fi, err := os.Stat(c.Dir)
		if err != nil {
			return bad(fmt.Errorf("GOAUTH=git encountered an error; cannot stat %s: %v", c.Dir, err),
				"point GOAUTH=git at an existing git work tree")
		}
		if !fi.IsDir() {
			return bad(fmt.Errorf("%w, dir is not a directory", ErrGitDir), fix)
		}
	default:
		c.Kind = Custom
		c.Argv, c.SplitErr = quoted.Split(entry)
	}
	return c, nil
}
