package modnet

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
	"github.com/modkit/modkit/modnet/vcs"
)

// directFixture is testenv.DirectFixture, with an Env of modnet's for it.
type directFixture struct{ *testenv.DirectFixture }

func newDirectFixture(t testing.TB) *directFixture {
	return &directFixture{testenv.NewDirectFixture(t)}
}

// env returns an Env for modkit that uses the fixture's git configuration
// and a fresh module cache, plus extra variables.
func (f *directFixture) env(t testing.TB, kv ...string) *Env {
	t.Helper()
	base := []string{"GOPROXY", "direct", "GOSUMDB", "off", "GOMODCACHE", filepath.Join(t.TempDir(), "modcache")}
	for _, e := range f.Environ() {
		k, v, _ := strings.Cut(e, "=")
		base = append(base, k, v)
	}
	return testEnv(t, append(base, kv...)...)
}

// fakeDiscoverOptions are vcs.DiscoverOptions that use the fake network.
func fakeDiscoverOptions(n *testenv.Net) vcs.DiscoverOptions {
	return vcs.DiscoverOptions{Do: n.Client().Do, InsecureDo: n.InsecureClient().Do}
}
