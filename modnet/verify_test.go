package modnet

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/mod/module"
)

const (
	hashA = "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	hashB = "h1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB="
	hashC = "h1:CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC="
)

func TestParseGoSum(t *testing.T) {
	tests := []struct {
		name, data string
		lookup     [2]string // path, version
		want       []GoSumLine
		wantErr    string
	}{
		{name: "module and go.mod lines",
			data:   "example.com/m v1.0.0 " + hashA + "\nexample.com/m v1.0.0/go.mod " + hashB + "\n",
			lookup: [2]string{"example.com/m", "v1.0.0/go.mod"},
			want:   []GoSumLine{{"example.com/m", "v1.0.0/go.mod", hashB, "go.sum", 2}}},
		{name: "blank lines, spaces, tabs, CRLF and no final newline count lines",
			data:   "\n  \nexample.com/m\tv1.0.0   " + hashA + "\r\n\nexample.com/m v1.0.0 " + hashB,
			lookup: [2]string{"example.com/m", "v1.0.0"},
			want:   []GoSumLine{{"example.com/m", "v1.0.0", hashA, "go.sum", 3}, {"example.com/m", "v1.0.0", hashB, "go.sum", 5}}},
		{name: "empty go.mod hash of an old bug is dropped",
			data:   "example.com/m v1.0.0/go.mod " + emptyGoModHash + "\n",
			lookup: [2]string{"example.com/m", "v1.0.0/go.mod"}},
		{name: "unknown hash algorithms are kept",
			data:   "example.com/m v1.0.0 h2:xyz\n",
			lookup: [2]string{"example.com/m", "v1.0.0"},
			want:   []GoSumLine{{"example.com/m", "v1.0.0", "h2:xyz", "go.sum", 1}}},
		{name: "two fields", data: "example.com/m v1.0.0 " + hashA + "\n\nexample.com/m v1.0.0\n",
			wantErr: "malformed go.sum:\ngo.sum:3: wrong number of fields 2"},
		{name: "four fields", data: "example.com/m v1.0.0 " + hashA + " extra\n",
			wantErr: "malformed go.sum:\ngo.sum:1: wrong number of fields 4"},
		{name: "empty file", data: "", lookup: [2]string{"example.com/m", "v1.0.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseGoSum([]byte(tt.data), "go.sum")
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Lookup(tt.lookup[0], tt.lookup[1]); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Lookup = %+v, want %+v", got, tt.want)
			}
		})
	}
	var nilSum *GoSum
	if got := nilSum.Lookup("example.com/m", "v1.0.0"); got != nil {
		t.Errorf("nil GoSum Lookup = %v", got)
	}
}

func TestReadGoSum(t *testing.T) {
	dir := t.TempDir()
	s, err := ReadModuleGoSum(dir)
	if err != nil || s.Lookup("example.com/m", "v1.0.0") != nil {
		t.Fatalf("missing go.sum: %v, %v", s, err)
	}
	file := writeFile(t, filepath.Join(dir, "go.sum"), "example.com/m v1.0.0 "+hashA+"\n")
	s, err = ReadModuleGoSum(dir)
	if err != nil {
		t.Fatal(err)
	}
	if l := s.Lookup("example.com/m", "v1.0.0"); len(l) != 1 || l[0].Where() != file+":1" {
		t.Errorf("Lookup = %+v, want one line at %s:1", l, file)
	}
	writeFile(t, file, "garbage\n")
	if _, err := ReadGoSum(file); err == nil || !strings.Contains(err.Error(), file+":1: wrong number of fields 1") {
		t.Errorf("ReadGoSum(garbage) = %v", err)
	}
}

func FuzzParseGoSum(f *testing.F) {
	f.Add([]byte("example.com/m v1.0.0 " + hashA + "\nexample.com/m v1.0.0/go.mod " + hashB + "\n"))
	f.Add([]byte("\n\r\n a b c \n"))
	f.Add([]byte("a b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseGoSum(data, "go.sum")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "malformed go.sum:\ngo.sum:") {
				t.Fatalf("error without location: %v", err)
			}
			return
		}
		// Every parsed line is found again, at a line that has its fields,
		// and writing the lines back out parses to the same set.
		lines := strings.Split(string(data), "\n")
		var out strings.Builder
		n := 0
		for _, ls := range s.lines {
			for _, l := range ls {
				n++
				if l.Line < 1 || l.Line > len(lines) || !reflect.DeepEqual(strings.Fields(lines[l.Line-1]), []string{l.Path, l.Version, l.Hash}) {
					t.Fatalf("line %+v does not match input line %q", l, lines[min(max(l.Line-1, 0), len(lines)-1)])
				}
				if got := s.Lookup(l.Path, l.Version); len(got) == 0 {
					t.Fatalf("Lookup(%q, %q) lost line %+v", l.Path, l.Version, l)
				}
				fmt.Fprintf(&out, "%s %s %s\n", l.Path, l.Version, l.Hash)
			}
		}
		s2, err := ParseGoSum([]byte(out.String()), "go.sum")
		if err != nil {
			t.Fatalf("reparse: %v", err)
		}
		m := 0
		for _, ls := range s2.lines {
			m += len(ls)
		}
		if m != n {
			t.Fatalf("reparse has %d lines, want %d", m, n)
		}
	})
}

func TestChecksumErrorText(t *testing.T) {
	const advice = "For more information, see 'go help module-auth'.\n"
	tests := []struct {
		err  *ChecksumError
		want string
	}{
		{&ChecksumError{Path: "example.com/m", Version: "v1.0.0", Kind: "module", Downloaded: hashA, Expected: hashB, Source: "/src/go.sum:7"},
			"verifying example.com/m@v1.0.0: checksum mismatch\n\tdownloaded: " + hashA + "\n\tgo.sum:     " + hashB + goSumMismatch + advice +
				"modkit: expected hash from /src/go.sum:7; this is a security error, not a network fault: it is never retried."},
		{&ChecksumError{Path: "example.com/m", Version: "v1.0.0", Kind: "go.mod", Downloaded: hashA, Expected: hashB, Source: "/w/go.work.sum:2"},
			"verifying example.com/m@v1.0.0/go.mod: checksum mismatch\n\tdownloaded: " + hashA + "\n\tgo.work.sum:     " + hashB + goSumMismatch + advice +
				"modkit: expected hash from /w/go.work.sum:2; this is a security error, not a network fault: it is never retried."},
		{&ChecksumError{Path: "example.com/m", Version: "v1.0.0", Kind: "go.mod", Downloaded: hashA, Expected: hashB, Source: "sum.example.test", DB: true},
			"example.com/m@v1.0.0: verifying go.mod: checksum mismatch\n\tdownloaded: " + hashA + "\n\tsum.example.test: " + hashB + sumdbMismatch + advice +
				"modkit: this is a security error, not a network fault: it is never retried."},
		{&ChecksumError{Path: "example.com/m", Version: "v1.0.0", Kind: "module", Downloaded: hashA, Source: "sum.example.test", DB: true},
			"example.com/m@v1.0.0: verifying module: checksum missing from sumdb response" + sumdbAbsent + advice +
				"modkit: this is a security error, not a network fault: it is never retried."},
		{&ChecksumError{Path: "example.com/m", Version: "v1.0.0", Kind: "module", Downloaded: hashA, Source: "sum.example.test", DB: true, Err: errors.New("cannot authenticate record data in server response")},
			"example.com/m@v1.0.0: verifying module: checksum database sum.example.test: cannot authenticate record data in server response" + sumdbUnauthenticated + advice +
				"modkit: this is a security error, not a network fault: it is never retried."},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() =\n%s\nwant\n%s", got, tt.want)
		}
		var err error = fmt.Errorf("downloading: %w", tt.err)
		if errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%v matches fs.ErrNotExist", tt.err)
		}
		var ce *ChecksumError
		if !errors.As(err, &ce) || ce != tt.err {
			t.Errorf("errors.As failed for %v", tt.err)
		}
	}
}

// fakeSumDB answers lookups from a table and records them.
type fakeSumDB struct {
	lines   map[string][]string // "path version" -> lines
	err     error
	lookups []string
}

func (f *fakeSumDB) Name() string { return "sum.example.test" }

func (f *fakeSumDB) Lookup(_ context.Context, path, version string) ([]string, error) {
	f.lookups = append(f.lookups, path+"@"+version)
	if f.err != nil {
		return nil, f.err
	}
	return f.lines[path+" "+version], nil
}

func TestSumChecker(t *testing.T) {
	const p = "example.com/m"
	gosum, err := ParseGoSum([]byte(strings.Join([]string{
		p + " v1.0.0 " + hashA,
		p + " v1.0.0/go.mod " + hashB,
		p + " v1.1.0 h9:unknown",
		p + " v1.2.0 " + hashA,
		p + " v1.2.0 " + hashB, // a later matching line does not excuse an earlier conflict
	}, "\n")), "/src/go.sum")
	if err != nil {
		t.Fatal(err)
	}
	verify := ChecksumDB{Verify: true, Name: "sum.example.test"}
	db := func() *fakeSumDB {
		return &fakeSumDB{lines: map[string][]string{
			p + " v1.1.0":        {p + " v1.1.0 " + hashC},
			p + " v1.1.0/go.mod": {p + " v1.1.0/go.mod " + hashC},
			p + " v1.3.0":        {p + " v1.3.0 " + hashA, p + " v1.3.0 h2:other"},
			p + " v1.4.0/go.mod": {p + " v1.4.0/go.mod " + hashA},
			p + " v1.5.0/go.mod": {},
			"other.example/x v1": {},
		}}
	}
	type result struct {
		ok       bool
		checksum string // "" or the ChecksumError's Source
		expected string
		contains string
	}
	tests := []struct {
		name     string
		gosum    *GoSum
		decision ChecksumDB
		dbErr    error
		mod, h   string
		want     result
		lookups  int
	}{
		{name: "go.sum hit", gosum: gosum, decision: verify, mod: "v1.0.0", h: hashA, want: result{ok: true}},
		{name: "go.sum go.mod hit", gosum: gosum, decision: verify, mod: "v1.0.0/go.mod", h: hashB, want: result{ok: true}},
		{name: "go.sum mismatch", gosum: gosum, decision: verify, mod: "v1.0.0", h: hashC,
			want: result{checksum: "/src/go.sum:1", expected: hashA}},
		{name: "go.sum go.mod mismatch", gosum: gosum, decision: verify, mod: "v1.0.0/go.mod", h: hashC,
			want: result{checksum: "/src/go.sum:2", expected: hashB, contains: "verifying example.com/m@v1.0.0/go.mod: checksum mismatch"}},
		{name: "first conflicting line wins", gosum: gosum, decision: verify, mod: "v1.2.0", h: hashB,
			want: result{checksum: "/src/go.sum:4", expected: hashA}},
		{name: "unknown algorithm falls to the database", gosum: gosum, decision: verify, mod: "v1.1.0", h: hashC, want: result{ok: true}, lookups: 1},
		{name: "absent, verify off", gosum: gosum, decision: ChecksumDB{Reason: "GOSUMDB=off"}, mod: "v1.3.0", h: hashC, want: result{ok: true}},
		{name: "absent, nil go.sum, verify off", decision: ChecksumDB{}, mod: "v1.3.0", h: hashC, want: result{ok: true}},
		{name: "absent, database agrees", gosum: gosum, decision: verify, mod: "v1.3.0", h: hashA, want: result{ok: true}, lookups: 1},
		{name: "absent, database go.mod agrees", decision: verify, mod: "v1.4.0/go.mod", h: hashA, want: result{ok: true}, lookups: 1},
		{name: "absent, database disagrees", gosum: gosum, decision: verify, mod: "v1.3.0", h: hashC,
			want: result{checksum: "sum.example.test", expected: hashA, contains: "example.com/m@v1.3.0: verifying module: checksum mismatch"}, lookups: 1},
		{name: "absent, database has no line", decision: verify, mod: "v1.5.0/go.mod", h: hashA,
			want: result{checksum: "sum.example.test", contains: "verifying go.mod: checksum missing from sumdb response"}, lookups: 1},
		{name: "database unreachable", decision: verify, dbErr: fmt.Errorf("reading https://sum.example.test/lookup/x: %w", fs.ErrNotExist),
			mod: "v1.6.0", h: hashA, want: result{contains: "example.com/m@v1.6.0: verifying module: reading https://sum.example.test/lookup/x"}, lookups: 1},
		{name: "database unauthenticated", decision: verify, dbErr: &ChecksumError{DB: true, Source: "sum.example.test", Err: errors.New("bad")},
			mod: "v1.6.0/go.mod", h: hashA, want: result{checksum: "sum.example.test", contains: "example.com/m@v1.6.0: verifying go.mod: checksum database sum.example.test: bad"}, lookups: 1},
		{name: "malformed GOSUMDB", decision: ChecksumDB{Verify: true, Err: errors.New("invalid GOSUMDB: malformed verifier id")},
			mod: "v1.6.0", h: hashA, want: result{contains: "example.com/m@v1.6.0: verifying module: invalid GOSUMDB"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := db()
			fake.err = tt.dbErr
			c := &sumChecker{gosum: tt.gosum, db: tt.decision, sumdb: fake}
			err := c.check(context.Background(), module.Version{Path: p, Version: tt.mod}, tt.h)
			if len(fake.lookups) != tt.lookups {
				t.Errorf("database lookups %v, want %d", fake.lookups, tt.lookups)
			}
			if tt.want.ok {
				if err != nil {
					t.Fatalf("check = %v, want ok", err)
				}
				return
			}
			if err == nil {
				t.Fatal("check accepted the hash")
			}
			if tt.want.contains != "" && !strings.Contains(err.Error(), tt.want.contains) {
				t.Errorf("check = %v\nwant it to contain %q", err, tt.want.contains)
			}
			var ce *ChecksumError
			isCE := errors.As(err, &ce)
			if isCE != (tt.want.checksum != "") {
				t.Fatalf("check = %v (%T); ChecksumError wanted: %v", err, err, tt.want.checksum != "")
			}
			if isCE {
				wantKind := "module"
				if strings.HasSuffix(tt.mod, "/go.mod") {
					wantKind = "go.mod"
				}
				if ce.Source != tt.want.checksum || ce.Expected != tt.want.expected || ce.Downloaded != tt.h ||
					ce.Path != p || ce.Version != strings.TrimSuffix(tt.mod, "/go.mod") || ce.Kind != wantKind {
					t.Errorf("ChecksumError = %+v", ce)
				}
			}
			if tt.dbErr != nil && !isCE && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the database's error is not wrapped: %v", err)
			}
		})
	}
}

func TestSumCheckerRespectsGONOSUMDB(t *testing.T) {
	env := testEnv(t, "GOSUMDB", "sum.golang.org", "GONOSUMDB", "example.com/private", "GOPROXY", "off")
	for path, lookups := range map[string]int{"example.com/private/m": 0, "example.com/public/m": 1} {
		r, err := env.Route(path)
		if err != nil {
			t.Fatal(err)
		}
		fake := &fakeSumDB{lines: map[string][]string{path + " v1.0.0": {path + " v1.0.0 " + hashA}}}
		c := &sumChecker{db: r.ChecksumDB, sumdb: fake}
		if err := c.check(context.Background(), module.Version{Path: path, Version: "v1.0.0"}, hashA); err != nil {
			t.Errorf("%s: %v", path, err)
		}
		if len(fake.lookups) != lookups {
			t.Errorf("%s: database lookups %v, want %d", path, fake.lookups, lookups)
		}
	}
}

func TestSumCheckerGoModAndZip(t *testing.T) {
	m := newFixtureModule(t, "example.com/m", "v1.0.0")
	gosum, _ := ParseGoSum([]byte(m.goSumLines()), "go.sum")
	c := &sumChecker{gosum: gosum, db: ChecksumDB{Verify: true}}
	if err := c.checkGoMod(context.Background(), m.mod, m.gomod); err != nil {
		t.Errorf("checkGoMod: %v", err)
	}
	var ce *ChecksumError
	if err := c.checkGoMod(context.Background(), m.mod, append(m.gomod, "// changed\n"...)); !errors.As(err, &ce) || ce.Kind != "go.mod" {
		t.Errorf("checkGoMod(changed) = %v", err)
	}
	if err := c.verifyZip(m.mod)(context.Background(), m.sum); err != nil {
		t.Errorf("verifyZip: %v", err)
	}
}
