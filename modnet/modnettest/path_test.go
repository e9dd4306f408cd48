package modnettest

import (
	"testing"

	"golang.org/x/mod/module"
)

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		path string
		want target
		ok   bool
	}{
		{"/example.com/m/@v/list", target{kind: KindList, module: "example.com/m"}, true},
		{"/example.com/!m/v2/@v/v2.0.0-!r!c.1.info", target{kind: KindInfo, module: "example.com/M/v2", version: "v2.0.0-RC.1"}, true},
		{"/example.com/m/@v/v1.0.0.mod", target{kind: KindMod, module: "example.com/m", version: "v1.0.0"}, true},
		{"/example.com/m/@v/v1.0.0+incompatible.zip", target{kind: KindZip, module: "example.com/m", version: "v1.0.0+incompatible"}, true},
		{"/example.com/m/@latest", target{kind: KindLatest, module: "example.com/m"}, true},
		{"/sumdb/sum.example.org/supported", target{kind: KindSumDB, db: "sum.example.org", dbPath: "/supported"}, true},
		{"/sumdb/host/path/latest", target{kind: KindSumDB, db: "host/path", dbPath: "/latest"}, true},
		{"/sumdb/s.test/lookup/example.com/!m@v1.0.0", target{kind: KindSumDB, db: "s.test", dbPath: "/lookup/example.com/!m@v1.0.0", module: "example.com/M", version: "v1.0.0"}, true},
		{"/sumdb/s.test/tile/8/0/000.p/3", target{kind: KindSumDB, db: "s.test", dbPath: "/tile/8/0/000.p/3"}, true},
		{"/example.com/M/@v/list", target{}, false}, // upper case must be escaped
		{"/example.com/m/@v/.info", target{}, false},
		{"/example.com/m/@v/v1.0.0.tar", target{}, false},
		{"/example.com/m/@v/v1.0.0", target{}, false},
		{"/example.com/m", target{}, false},
		{"/sumdb//supported", target{}, false},
		{"/sumdb/s.test/lookup/nover", target{}, false},
		{"example.com/m/@v/list", target{}, false},
		{"/", target{}, false},
	} {
		got, err := parseTarget(tc.path)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseTarget(%q) = %+v, %v; want %+v, ok=%v", tc.path, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzParseTarget checks that the parser never panics and that whatever it
// accepts is the canonical escaped form of what it returns.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{
		"/example.com/m/@v/list", "/example.com/!m/v2/@v/v2.0.0.info", "/example.com/m/@latest",
		"/sumdb/s.test/lookup/example.com/m@v1.0.0", "/sumdb/a/b/tile/8/0/x001/002.p/5", "/sumdb/s/supported",
		"/gopkg.in/yaml.v3/@v/v3.0.1.zip", "/x/@v/list", "/a.b/@v/v1.0.0-0.20200101000000-abcdefabcdef.mod",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		tg, err := parseTarget(p)
		if err != nil {
			return
		}
		var again string
		switch tg.kind {
		case KindSumDB:
			again = "/sumdb/" + tg.db + tg.dbPath
		case KindList, KindLatest:
			esc, err := module.EscapePath(tg.module)
			if err != nil {
				t.Fatalf("parseTarget(%q) accepted module %q that does not escape: %v", p, tg.module, err)
			}
			again = "/" + esc + map[FileKind]string{KindList: "/@v/list", KindLatest: "/@latest"}[tg.kind]
		default:
			esc, err1 := module.EscapePath(tg.module)
			ev, err2 := module.EscapeVersion(tg.version)
			if err1 != nil || err2 != nil {
				t.Fatalf("parseTarget(%q) = %+v, which does not escape: %v %v", p, tg, err1, err2)
			}
			again = "/" + esc + "/@v/" + ev + "." + string(tg.kind)
		}
		if again != p {
			t.Fatalf("parseTarget(%q) = %+v, whose canonical path is %q", p, tg, again)
		}
		if tg2, err := parseTarget(again); err != nil || tg2 != tg {
			t.Fatalf("parseTarget(%q) = %+v, %v; want %+v", again, tg2, err, tg)
		}
	})
}
