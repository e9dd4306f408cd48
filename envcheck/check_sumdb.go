package envcheck

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/mod/module"

	"github.com/modkit/modkit/internal/web"
	"github.com/modkit/modkit/modnet"
)

// checkSumDBOff flags settings that turn checksum verification off for
// every module: GOSUMDB=off, or a GONOSUMDB/GOPRIVATE that matches all.
func checkSumDBOff(ctx context.Context, r *runner) Result {
	var f findings
	v := r.env.Lookup("GOSUMDB")
	f.note("%s", origin(v))
	if v.Value == "off" {
		who := ""
		if v.Layer == modnet.LayerGOROOT {
			who = " (your Go distribution's default)"
		}
		f.add(StatusWarn, unsetFix(v)+"\n# for private modules, list them in GOPRIVATE instead",
			"GOSUMDB=off%s: modules missing from go.sum are not checked against the checksum database, so a tampered proxy or repository goes unnoticed", who)
		return f.result("")
	}
	nosum := r.env.Lookup("GONOSUMDB")
	for _, probe := range []string{"golang.org/x/mod", "github.com/x/y", "example.com/m"} {
		if !module.MatchPrefixPatterns(nosum.Value, probe) {
			continue
		}
		name := "GONOSUMDB"
		src := nosum
		if nosum.DerivedFrom != "" {
			name, src = nosum.DerivedFrom, r.env.Lookup(nosum.DerivedFrom)
		}
		f.add(StatusWarn, "", "%s=%s (from %s) matches public modules such as %s: they are not checked against the checksum database",
			name, src.Value, src.Where(), probe)
		break
	}
	return f.result(fmt.Sprintf("the checksum database verifies modules not yet in go.sum (GOSUMDB=%s)", web.RedactList(v.Value)))
}

// checkGOSUMDBSyntax parses GOSUMDB as cmd/go/internal/modfetch.dbDial does.
func checkGOSUMDBSyntax(ctx context.Context, r *runner) Result {
	v := r.env.Lookup("GOSUMDB")
	if v.Value == "off" {
		return skip("GOSUMDB=off (see sumdb.off)")
	}
	var f findings
	f.note("%s", origin(v))
	db, err := modnet.ParseGOSUMDB(v)
	if err != nil {
		var se *modnet.SettingError
		fix := "go env -u GOSUMDB"
		if errors.As(err, &se) {
			fix = se.Fix + "\n" + unsetFix(v) + "  # restores the default"
			err = se.Err
		}
		f.add(StatusError, fix, "GOSUMDB=%q: %v; modules missing from go.sum cannot be verified, so adding or upgrading dependencies fails", v.Value, err)
		return f.result("")
	}
	if known, ok := db.KnownKey(); ok && db.Key != known {
		f.add(StatusError, unsetFix(v), "GOSUMDB gives %s a key that is not its published key: every verification fails", db.Name)
	}
	where := "reached through GOPROXY when a proxy supports it, else at " + db.URL
	if db.Explicit {
		where = "at " + db.URL + ", bypassing GOPROXY"
		if u, err := url.Parse(db.URL); err == nil && u.Scheme == "http" {
			f.add(StatusInfo, "", "GOSUMDB's URL uses plain http; answers are signed, so tampering is still detected")
		} else if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			f.add(StatusError, "write the URL as https://host[/path]", "GOSUMDB URL %q is not an http(s) URL", web.Redact(db.URL))
		}
	}
	if _, known := db.KnownKey(); strings.Contains(v.Value, "+") && !db.Explicit && !known {
		f.note("database %s with a custom key", db.Name)
	}
	return f.result(fmt.Sprintf("checksum database %s, %s", db.Name, where))
}
