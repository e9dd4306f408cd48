package modnet

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
)

// TestClientDirectMatchesGoCommand downloads modules from git repositories
// through go-get discovery with the Client, and with the go command into
// another cache, and compares the files both leave: .info, .mod, .ziphash
// and the list of extracted files.
func TestClientDirectMatchesGoCommand(t *testing.T) {
	f := newDirectFixture(t)
	queries := []string{testenv.FixturePlain + "@v1.0.0", testenv.FixturePlain + "@dev", testenv.FixtureMajor + "/v2@latest", testenv.FixtureMajor + "/sub@v1.2.0", testenv.FixtureUntagged + "@latest"}
	for _, q := range queries {
		t.Run(strings.ReplaceAll(q, "/", "_"), func(t *testing.T) {
			path, query, _ := strings.Cut(q, "@")
			env := f.env(t)
			hc := fastRetry()
			hc.Transport = f.Net.Client().Transport
			c := &Client{Env: env, HTTP: hc}
			defer c.Close()
			m, err := c.Download(context.Background(), path, query)
			if err != nil {
				t.Fatalf("Client.Download(%s): %v", q, err)
			}

			goCache := filepath.Join(t.TempDir(), "gocache")
			out, stderr, err := newGoCmd(t, f, "GOMODCACHE", goCache).Run("mod", "download", "-json", q)
			if err != nil {
				t.Fatalf("go mod download %s: %v\n%s%s", q, err, out, stderr)
			}
			res := testenv.DecodeAll[struct{ Version, Info, GoMod, Zip, Sum, GoModSum string }](t, out)[0]
			if res.Version != m.Version || res.Sum != m.Sum || res.GoModSum != m.GoModSum {
				t.Errorf("go: %s %s %s\nmodkit: %s %s %s", res.Version, res.Sum, res.GoModSum, m.Version, m.Sum, m.GoModSum)
			}
			for _, pair := range [][2]string{{res.Info, m.Info}, {res.GoMod, m.GoMod}} {
				want, _ := os.ReadFile(pair[0])
				got, _ := os.ReadFile(pair[1])
				if !bytes.Equal(want, got) {
					t.Errorf("%s differs:\ngo:     %s\nmodkit: %s", filepath.Base(pair[1]), want, got)
				}
			}
		})
	}
}
