package modnet

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// A netrcEntry is one complete machine entry of a .netrc file: the go
// command only keeps machines that have both a login and a password.
type netrcEntry struct {
	machine  string
	login    string
	password string
}

// parseNetrc reads .netrc data with the go command's rules
// (cmd/go/internal/auth.parseNetrc), quirks included, so that modkit and
// the go command send the same credentials:
//
//   - data is split on '\n' only, each line into whitespace-separated
//     fields, and fields are read in (keyword, value) pairs within a line,
//     so a keyword whose value is on the next line is lost;
//   - "machine" starts a new entry; an entry is complete, and recorded, as
//     soon as it has a machine, a login and a password, after which further
//     login/password tokens belong to no machine;
//   - "macdef" skips the following lines up to the next empty line (a line
//     holding only spaces or '\r' does not end it), but the rest of the
//     macdef line itself is still read;
//   - a line whose last unpaired field is "default" ends the file: the
//     default entry and everything after it are ignored, as the go command
//     never sends default credentials. A "default" token in keyword
//     position is skipped like any unknown keyword.
//
// Duplicate machines are all returned, in file order.
func parseNetrc(data string) []netrcEntry {
	var (
		entries []netrcEntry
		cur     netrcEntry
		inMacro bool
	)
	for line := range strings.SplitSeq(data, "\n") {
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
				cur = netrcEntry{machine: val}
			case "login":
				cur.login = val
			case "password":
				cur.password = val
			case "macdef":
				inMacro = true
			}
			if cur.machine != "" && cur.login != "" && cur.password != "" {
				entries = append(entries, cur)
				cur = netrcEntry{}
			}
		}
		if i < len(f) && f[i] == "default" {
			break
		}
	}
	return entries
}

// netrcPath returns the .netrc file the go command reads
// (cmd/go/internal/auth.netrcPath): $NETRC if set, else .netrc in the home
// directory; on Windows _netrc is preferred when it exists.
func netrcPath(env *Env) (string, error) {
	if p := env.OS("NETRC"); p != "" {
		return p, nil
	}
	home, err := homeDir(env)
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

// homeDir is os.UserHomeDir computed from env's variables instead of the
// process environment.
func homeDir(env *Env) (string, error) {
	name := "HOME"
	switch runtime.GOOS {
	case "windows":
		name = "USERPROFILE"
	case "plan9":
		name = "home"
	}
	if h := env.OS(name); h != "" {
		return h, nil
	}
	return "", errors.New("$" + name + " is not defined")
}

// readNetrc reads and parses the .netrc file for env. A missing file is
// no credentials, not an error, as in the go command.
func readNetrc(env *Env) ([]netrcEntry, error) {
	path, err := netrcPath(env)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parseNetrc(string(data)), nil
}
