package modnettest

import (
	"strings"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
)

// TestGoRejectsMisbehavingSumDB checks that each SumDBMode makes the real go
// command refuse the download with a security error.
func TestGoRejectsMisbehavingSumDB(t *testing.T) {
	for _, tc := range []struct {
		mode SumDBMode
		want string
	}{
		{SumDBWrongHash, "SECURITY ERROR"},
		{SumDBTamperedRecord, "cannot authenticate record data"},
		{SumDBBadSignature, "invalid signature"},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			srv := NewServer(testModules()...)
			defer srv.Close()
			srv.SumDB().SetMode(tc.mode)
			g := testenv.NewGo(t, "GOPROXY="+srv.URL, "GOSUMDB="+srv.SumDB().GOSUMDB())
			out, errs, err := g.Run("mod", "download", "-json", "example.com/hello@v1.1.0")
			t.Logf("stdout:\n%s\nstderr:\n%s", out, errs)
			if err == nil {
				t.Fatalf("go mod download succeeded against a database in mode %d", tc.mode)
			}
			if !strings.Contains(out+errs, tc.want) {
				t.Errorf("go mod download output does not mention %q", tc.want)
			}
		})
	}
}
