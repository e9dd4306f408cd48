package modnet

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/modkit/modkit/modnet/modnettest"
	"github.com/modkit/modkit/retry"
)

// TestFetchPassesThrough: FetchGoMod and FetchZip return what the route
// serves, even content the checksum database disagrees with (whose
// verification is the caller's), retried and resumed like any download,
// and leave the module cache empty.
func TestFetchPassesThrough(t *testing.T) {
	good := libModule("127.0.0.1/pass/lib", "v1.0.0")
	srv := modnettest.NewServer(good)
	defer srv.Close()
	// The database logged the good module; the proxy now serves another.
	evil := good
	evil.Files = map[string]string{"lib.go": "package lib // replaced\n"}
	evil.GoMod = "module 127.0.0.1/pass/lib\n\n// replaced\n"
	if err := srv.Add(evil); err != nil {
		t.Fatal(err)
	}
	env, cache := clientEnv(t, "GOPROXY", srv.URL, "GOSUMDB", srv.SumDB().GOSUMDB())
	c := &Client{Env: env, HTTP: &retry.Client{BaseDelay: 1, HedgeDisabled: true}}
	defer c.Close()
	ctx := context.Background()

	if _, err := c.GoMod(ctx, good.Path, good.Version); !errors.As(err, new(*ChecksumError)) {
		t.Fatalf("GoMod of the replaced go.mod: %v, want a *ChecksumError", err)
	}
	if err := RemoveAll(cache); err != nil {
		t.Fatal(err)
	}

	// A reset first, then the zip cut half-way: retried, then resumed.
	srv.SetFaults(modnettest.Faults{Rules: []modnettest.Rule{
		{Kind: modnettest.KindMod, First: 1, Fault: modnettest.Reset()},
		{Kind: modnettest.KindZip, First: 1, Fault: modnettest.Cut(modnettest.Half)},
	}})
	data, err := c.FetchGoMod(ctx, good.Path, good.Version)
	if err != nil || string(data) != evil.ModFile() {
		t.Errorf("FetchGoMod = %q, %v; want the go.mod served", data, err)
	}
	f, err := os.CreateTemp(t.TempDir(), "zip")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("left over from another source")
	if err := c.FetchZip(ctx, good.Path, good.Version, f); err != nil {
		t.Fatalf("FetchZip: %v", err)
	}
	want, err := evil.BuildZip()
	if err != nil {
		t.Fatal(err)
	}
	f.Seek(0, io.SeekStart)
	if got, _ := io.ReadAll(f); !bytes.Equal(got, want) {
		t.Errorf("FetchZip wrote %d bytes, want the %d bytes served", len(got), len(want))
	}
	var resumed bool
	for _, r := range srv.Requests() {
		resumed = resumed || (r.Kind == modnettest.KindZip && r.Range != "")
	}
	if !resumed {
		t.Errorf("the cut zip was not resumed:\n%s", srv.Requests())
	}
	if left := cacheEntries(t, cache); len(left) != 0 {
		t.Errorf("the module cache holds %v, want nothing", left)
	}

	// Not found is not found, and a version must be canonical.
	if _, err := c.FetchGoMod(ctx, good.Path, "v1.9.9"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("FetchGoMod of a missing version: %v, want fs.ErrNotExist", err)
	}
	if err := c.FetchZip(ctx, good.Path, "v1", f); err == nil {
		t.Errorf("FetchZip of a non-canonical version succeeded")
	}
}

// TestClientSumDB: the Client's checksum database reads remote answers
// over the Client's stack, and is the one its downloads are verified with.
func TestClientSumDB(t *testing.T) {
	srv := modnettest.NewServer(libModule("127.0.0.1/db/lib", "v1.0.0"))
	defer srv.Close()
	env, _ := clientEnv(t, "GOPROXY", srv.URL, "GOSUMDB", srv.SumDB().GOSUMDB())
	var attempts int
	c := &Client{Env: env, HTTP: &retry.Client{OnAttempt: func(retry.Event) { attempts++ }}}
	defer c.Close()
	db, err := c.SumDB()
	if err != nil {
		t.Fatal(err)
	}
	if db.Name() != srv.SumDB().Name() {
		t.Errorf("Name = %q, want %q", db.Name(), srv.SumDB().Name())
	}
	data, err := db.ReadRemote(context.Background(), "/lookup/127.0.0.1/db/lib@v1.0.0")
	if err != nil || !bytes.Contains(data, []byte("127.0.0.1/db/lib v1.0.0 h1:")) || attempts == 0 {
		t.Errorf("ReadRemote = %q, %v after %d attempts through the Client", data, err, attempts)
	}
	if again, _ := c.SumDB(); again != db {
		t.Errorf("SumDB returned a second client for the same database")
	}

	env, _ = clientEnv(t, "GOPROXY", srv.URL, "GOSUMDB", "off")
	off := &Client{Env: env}
	if _, err := off.SumDB(); err == nil {
		t.Errorf("SumDB with GOSUMDB=off succeeded")
	}
}
