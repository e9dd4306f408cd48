package envcheck

import (
	"crypto/rand"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

func TestCheckSumDBOff(t *testing.T) {
	runCases(t, "sumdb.off", []staticCase{
		{name: "default", status: StatusOK, summary: "the checksum database verifies modules not yet in go.sum (GOSUMDB=sum.golang.org)", fix: "-"},
		{name: "off in environment", vars: map[string]string{"GOSUMDB": "off"}, status: StatusWarn,
			summary: "GOSUMDB=off: modules missing from go.sum are not checked", fix: "unset GOSUMDB\n# for private modules, list them in GOPRIVATE instead"},
		{name: "off in GOENV file", goenv: "GOSUMDB=off\n", status: StatusWarn, fix: "go env -u GOSUMDB"},
		{name: "off in go.env", goroot: "GOPROXY=direct\nGOSUMDB=off\n", status: StatusWarn,
			summary: "GOSUMDB=off (your Go distribution's default)", fix: "edit $DIR/goroot/go.env, line 2"},
		{name: "GONOSUMDB everything", vars: map[string]string{"GONOSUMDB": "*"}, status: StatusWarn,
			summary: "GONOSUMDB=* (from environment) matches public modules such as golang.org/x/mod"},
		{name: "GOPRIVATE everything", vars: map[string]string{"GOPRIVATE": "*"}, status: StatusWarn, summary: "GOPRIVATE=* (from environment) matches public modules"},
		{name: "GOPRIVATE public host", vars: map[string]string{"GOPRIVATE": "github.com"}, status: StatusWarn, summary: "such as github.com/x/y"},
		{name: "private only", vars: map[string]string{"GOPRIVATE": "corp.example.com"}, status: StatusOK},
	})
}

func TestCheckGOSUMDBSyntax(t *testing.T) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "sum.example.com")
	if err != nil {
		t.Fatal(err)
	}
	_ = skey
	_, fakeGolang, err := note.GenerateKey(rand.Reader, "sum.golang.org")
	if err != nil {
		t.Fatal(err)
	}
	runCases(t, "gosumdb.syntax", []staticCase{
		{name: "default", status: StatusOK, summary: "checksum database sum.golang.org, reached through GOPROXY when a proxy supports it, else at https://sum.golang.org", fix: "-"},
		{name: "off", vars: map[string]string{"GOSUMDB": "off"}, status: StatusSkip},
		{name: "too many fields", vars: map[string]string{"GOSUMDB": "a b c"}, status: StatusError,
			summary: `GOSUMDB="a b c": invalid GOSUMDB: too many fields; modules missing from go.sum cannot be verified`, fix: "unset GOSUMDB"},
		{name: "unknown name", vars: map[string]string{"GOSUMDB": "sum.example.com"}, status: StatusError, summary: "invalid GOSUMDB: malformed verifier id"},
		{name: "custom key", vars: map[string]string{"GOSUMDB": vkey}, status: StatusOK, summary: "checksum database sum.example.com, reached through GOPROXY"},
		{name: "custom key and URL", vars: map[string]string{"GOSUMDB": vkey + " https://sumproxy.example.com/db"}, status: StatusOK,
			summary: "at https://sumproxy.example.com/db, bypassing GOPROXY"},
		{name: "plain http URL", vars: map[string]string{"GOSUMDB": vkey + " http://sumproxy.example.com"}, status: StatusInfo, summary: "plain http"},
		{name: "not a URL", vars: map[string]string{"GOSUMDB": vkey + " sumproxy"}, status: StatusError, summary: "is not an http(s) URL"},
		{name: "wrong key for the known name", vars: map[string]string{"GOSUMDB": fakeGolang}, status: StatusError, summary: "not its published key"},
		{name: "alias", vars: map[string]string{"GOSUMDB": "sum.golang.google.cn"}, status: StatusOK, summary: "at https://sum.golang.google.cn, bypassing GOPROXY"},
	})
}
