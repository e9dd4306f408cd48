package modproxy

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/modkit/modkit/internal/testenv"
	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/modnet/modnettest"
)

// TestGoCommandLocks proves the lock order with the real go command: it
// holds a module version's lock file in its module cache while it
// downloads the zip from its GOPROXY. A server passing files through
// takes no lock, so it serves the go command even from a Client whose
// module cache is that very cache; a verifying server would wait for the
// lock the go command holds, while the go command waits for it: the
// deadlock modfetch exec avoids (it also gives its server a module cache
// of its own).
func TestGoCommandLocks(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	g, err := modnettest.GenerateGraph(modnettest.GraphConfig{Seed: 3, Modules: 6, ZipBytes: 128 << 10})
	if err != nil {
		t.Fatal(err)
	}
	upstream := modnettest.NewServer(g.Modules...)
	defer upstream.Close()

	for _, verify := range []bool{false, true} {
		goCmd := testenv.NewGo(t)
		if err := g.WriteMain(goCmd.Dir); err != nil {
			t.Fatal(err)
		}
		env, err := modnet.LoadEnvFrom(map[string]string{
			"GOENV": "off", "GOROOT": t.TempDir(), "GOPROXY": upstream.URL, "GOSUMDB": upstream.SumDB().GOSUMDB(),
			"GOMODCACHE": goCmd.ModCache(), "GOPATH": filepath.Join(t.TempDir(), "gopath"), "GOFLAGS": "-modcacherw",
		})
		if err != nil {
			t.Fatal(err)
		}
		client := &modnet.Client{Env: env, HTTP: fastRetries()}
		s := &Server{Client: client, Verify: verify, TempDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)}
		hs := httptest.NewServer(s)
		goCmd.Env = append(goCmd.Env, "GOPROXY="+hs.URL, "GOSUMDB="+upstream.SumDB().GOSUMDB())

		ctx, cancel := context.WithTimeout(context.Background(), map[bool]time.Duration{false: 2 * time.Minute, true: 3 * time.Second}[verify])
		cmd := goCmd.CommandContext(ctx, "mod", "download", "all")
		out, err := cmd.CombinedOutput()
		timedOut := ctx.Err() != nil
		cancel()
		hs.CloseClientConnections()
		hs.Close()
		s.Close()
		client.Close()
		switch {
		case !verify && err != nil:
			t.Errorf("passing through, sharing the go command's module cache: %v\n%s", err, out)
		case verify && !timedOut:
			t.Errorf("verifying, sharing the go command's module cache: ended (%v) instead of waiting for the go command's lock; the test proves less than it claims\n%s", err, out)
		}
	}
}
