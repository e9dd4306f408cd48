package goauth

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/modkit/modkit/internal/osenv"
)

// A NetrcEntry is one machine entry of a .netrc file.
type NetrcEntry struct {
	Machine  string // host, or host:port
	Login    string
	Password string
	Line     int // 1-based line where the entry's machine token is
}

// Complete reports whether the entry has a machine, a login and a
// password: the go command ignores any other entry.
func (e NetrcEntry) Complete() bool {
	return e.Machine != "" && e.Login != "" && e.Password != ""
}

// netrcEntry is a complete entry, the only kind credentials come from.
type netrcEntry struct {
	machine  string
	login    string
	password string
}

// ParseNetrc reads .netrc data with the go command's rules
// (cmd/go/internal/auth.parseNetrc), quirks included, so that modkit and
// the go command send the same credentials:
//
//   - data is split on '\n' only, each line into whitespace-separated
//     fields, and fields are read in (keyword, value) pairs within a line,
//     so a keyword whose value is on the next line is lost;
//   - "machine" starts a new entry; an entry is complete as soon as it has
//     a machine, a login and a password, after which further login and
//     password tokens belong to no machine;
//   - "macdef" skips the following lines up to the next empty line (a line
//     holding only spaces or '\r' does not end it), but the rest of the
//     macdef line itself is still read;
//   - a line whose last unpaired field is "default" ends the file: the
//     default entry and everything after it are ignored, as the go command
//     never sends default credentials. A "default" token in keyword
//     position is skipped like any unknown keyword.
//
// It returns every entry in file order, incomplete ones included (see
// [NetrcEntry.Complete]), and how many "machine" tokens follow the
// "default" that ended the file, which the go command never reads.
func ParseNetrc(data string) (entries []NetrcEntry, ignored int) {
	cur := -1 // index of the entry being filled, -1 for none
	inMacro := false
	lines := strings.Split(data, "\n")
	for n, line := range lines {
		if inMacro {
			inMacro = line != ""
			continue
		}
		f := strings.Fields(line)
		i := 0
		for ; i+1 < len(f); i += 2 {
			key, val := f[i], f[i+1]
			switch key {
			case "machine":
				entries = append(entries, NetrcEntry{Machine: val, Line: n + 1})
				cur = len(entries) - 1
			case "login":
				if cur >= 0 {
					entries[cur].Login = val
				}
			case "password":
				if cur >= 0 {
					entries[cur].Password = val
				}
			case "macdef":
				inMacro = true
			}
			if cur >= 0 && entries[cur].Complete() {
				cur = -1
			}
		}
		if i < len(f) && f[i] == "default" {
			for _, rest := range lines[n+1:] {
				for _, tok := range strings.Fields(rest) {
					if tok == "machine" {
						ignored++
					}
				}
			}
			break
		}
	}
	return entries, ignored
}

// parseNetrc returns the complete entries of .netrc data: the credentials
// the go command uses.
func parseNetrc(data string) []netrcEntry {
	all, _ := ParseNetrc(data)
	var out []netrcEntry
	for _, e := range all {
		if e.Complete() {
			out = append(out, netrcEntry{machine: e.Machine, login: e.Login, password: e.Password})
		}
	}
	return out
}

// NetrcPath returns the .netrc file the go command reads
// (cmd/go/internal/auth.netrcPath), looking variables up with getenv:
// $NETRC if set, else .netrc in the home directory; on Windows _netrc is
// preferred when it exists. The file need not exist.
func NetrcPath(getenv func(string) string) (string, error) {
	if p := getenv("NETRC"); p != "" {
		return p, nil
	}
	home, err := osenv.UserHomeDir(getenv)
	if err != nil {
		return "", err
	}
	if runtime.GOOS == "windows" {
		legacy := filepath.Join(home, "_netrc")
		_, err := os.Stat(legacy)
		if err == nil {
			return legacy, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	return filepath.Join(home, ".netrc"), nil
}

// readNetrc reads and parses the .netrc file at path. A missing file is no
// credentials, not an error, as in the go command.
func readNetrc(path string) ([]netrcEntry, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parseNetrc(string(data)), nil
}
