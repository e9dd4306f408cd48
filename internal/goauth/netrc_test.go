package goauth

import (
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestParseNetrc(t *testing.T) {
	tests := []struct {
		name string
		data string
		want []netrcEntry
	}{
		{"empty", "", nil},
		{"one line", "machine a.test login u password p", []netrcEntry{{"a.test", "u", "p"}}},
		{"one token pair per line", "machine a.test\nlogin u\npassword p\n", []netrcEntry{{"a.test", "u", "p"}}},
		{"tabs and CRLF", "machine\ta.test\r\n\tlogin u\r\n  password p\r\n", []netrcEntry{{"a.test", "u", "p"}}},
		{"value on next line is lost", "machine a.test login\nu password p\n", nil},
		{"incomplete entries dropped", "machine a.test password p\nmachine b.test login u\n", nil},
		{"login and password without machine", "login u password p\n", nil},
		{
			"duplicates kept in file order",
			"machine a.test login u1 password p1\nmachine a.test login u2 password p2\n",
			[]netrcEntry{{"a.test", "u1", "p1"}, {"a.test", "u2", "p2"}},
		},
		{
			"entry is recorded as soon as complete",
			"machine a.test login u password p login v password q\n",
			[]netrcEntry{{"a.test", "u", "p"}},
		},
		{
			"password before login",
			"machine a.test password p login u\n",
			[]netrcEntry{{"a.test", "u", "p"}},
		},
		{"port is part of the machine", "machine 127.0.0.1:8443 login u password p", []netrcEntry{{"127.0.0.1:8443", "u", "p"}}},
		{"unknown keywords skipped", "machine a.test account x login u port 1 password p", []netrcEntry{{"a.test", "u", "p"}}},
		{
			"default alone ends the file",
			"machine a.test login u password p\ndefault\nlogin anon password x\nmachine b.test login v password q\n",
			[]netrcEntry{{"a.test", "u", "p"}},
		},
		{
			// "default login anonymous password x" has an even number of
			// fields, so no unpaired "default" remains: cmd/go reads on.
			"default with credentials on its line does not end the file",
			"default login anonymous password x\nmachine b.test login v password q\n",
			[]netrcEntry{{"b.test", "v", "q"}},
		},
		{
			"odd default line ends the file",
			"machine a.test login u password p\nlogin w default\nmachine b.test login v password q\n",
			[]netrcEntry{{"a.test", "u", "p"}},
		},
		{
			"macdef skips up to an empty line",
			"macdef init\nmachine x.test login no password no\n\nmachine a.test login u password p\n",
			[]netrcEntry{{"a.test", "u", "p"}},
		},
		{
			"rest of the macdef line is read",
			"machine a.test macdef m login u password p\n  login no\n\nmachine b.test login v password q\n",
			[]netrcEntry{{"a.test", "u", "p"}, {"b.test", "v", "q"}},
		},
		{
			"whitespace line does not end a macro",
			"macdef m\n \nmachine x.test login no password no\n\nmachine a.test login u password p\n",
			[]netrcEntry{{"a.test", "u", "p"}},
		},
		{
			"CR line does not end a macro",
			"macdef m\r\n\r\nmachine x.test login no password no\r\n",
			nil,
		},
		{
			// The go command's own test data (cmd/go/internal/auth/netrc_test.go).
			"cmd/go test data",
			`
machine incomplete
password none

machine api.github.com
  login user
  password pwd

machine incomlete.host
  login justlogin

machine test.host
login user2
password pwd2

machine oneline login user3 password pwd3

machine ignore.host macdef ignore
  login nobody
  password nothing

machine hasmacro.too macdef ignore-next-lines login user4 password pwd4
  login nobody
  password nothing

default
login anonymous
password gopher@golang.org

machine after.default
login oops
password too-late-in-file
`,
			[]netrcEntry{
				{"api.github.com", "user", "pwd"},
				{"test.host", "user2", "pwd2"},
				{"oneline", "user3", "pwd3"},
				{"hasmacro.too", "user4", "pwd4"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseNetrc(tt.data)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseNetrc(%q)\n got %q\nwant %q", tt.data, got, tt.want)
			}
		})
	}
}

func FuzzParseNetrc(f *testing.F) {
	for _, s := range []string{
		"machine a.test login u password p",
		"machine a macdef m login u password p\nx\n\nmachine b login v password q\ndefault\n",
		"default login a password b\nmachine c login d password e",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		all, _ := ParseNetrc(data)
		for _, e := range all {
			if e.Machine == "" || e.Line < 1 || e.Line > strings.Count(data, "\n")+1 {
				t.Fatalf("ParseNetrc(%q) returned entry %+v", data, e)
			}
		}
		for _, e := range parseNetrc(data) {
			for _, v := range []string{e.machine, e.login, e.password} {
				if v == "" || strings.ContainsFunc(v, isNetrcSpace) || !strings.Contains(data, v) {
					t.Fatalf("parseNetrc(%q) returned field %q: want a non-empty token of the input", data, v)
				}
			}
		}
	})
}

func isNetrcSpace(r rune) bool { return strings.TrimSpace(string(r)) == "" }

func TestNetrcPath(t *testing.T) {
	home := t.TempDir()
	homeVar := "HOME"
	if runtime.GOOS == "windows" {
		homeVar = "USERPROFILE"
	}
	tests := []struct {
		name    string
		environ []string
		want    string
		wantErr string
	}{
		{"NETRC wins", []string{"NETRC", "/custom/netrc", homeVar, home}, "/custom/netrc", ""},
		{"home", []string{homeVar, home}, filepath.Join(home, ".netrc"), ""},
		{"no home", nil, "", "is not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{}
			for i := 0; i+1 < len(tt.environ); i += 2 {
				vars[tt.environ[i]] = tt.environ[i+1]
			}
			got, err := NetrcPath(func(k string) string { return vars[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("netrcPath = %q, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("netrcPath = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestReadNetrc(t *testing.T) {
	dir := t.TempDir()
	if got, err := readNetrc(filepath.Join(dir, "missing")); got != nil || err != nil {
		t.Errorf("missing file: readNetrc = %v, %v; want nothing, no error", got, err)
	}
	if _, err := readNetrc(dir); err == nil { // a directory cannot be read
		t.Errorf("directory: readNetrc succeeded; want an error")
	}
	p := writeFile(t, filepath.Join(dir, "netrc"), "machine a.test login u password p\n")
	got, err := readNetrc(p)
	if want := []netrcEntry{{"a.test", "u", "p"}}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("readNetrc = %v, %v; want %v", got, err, want)
	}
}

func TestParseNetrcEntriesAndLines(t *testing.T) {
	entries, afterDef := ParseNetrc(`machine a.example.com login a password pa
machine b.example.com
	login b
	password pb
macdef init
	machine evil.example.com login x password y

machine c.example.com login c
password pc login again
machine d.example.com login d password pd default
machine e.example.com login e password pe
default
machine f.example.com login f password pf
`)
	want := []NetrcEntry{
		{"a.example.com", "a", "pa", 1},
		{"b.example.com", "b", "pb", 2},
		{"c.example.com", "c", "pc", 8},
		{"d.example.com", "d", "pd", 10},
		// "default" left over after the pairs of line 10 ends the file for
		// the go command: e and f are never read.
	}
	if len(entries) != len(want) {
		t.Fatalf("entries = %+v, want %+v", entries, want)
	}
	for i := range want {
		if entries[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, entries[i], want[i])
		}
	}
	if afterDef != 2 {
		t.Errorf("afterDef = %d, want 2", afterDef)
	}
}
