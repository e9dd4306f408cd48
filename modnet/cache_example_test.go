package modnet_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"

	"github.com/modkit/modkit/modnet"
	"golang.org/x/mod/module"
)

// A Cache stores a module exactly where and how the go command would, so
// that 'go build' then finds it offline.
func ExampleCache() {
	dir, err := os.MkdirTemp("", "modcache")
	if err != nil {
		log.Fatal(err)
	}
	defer modnet.RemoveAll(dir) // extracted modules are read-only
	c := &modnet.Cache{Dir: dir}
	ctx := context.Background()
	mod := module.Version{Path: "example.com/Hello", Version: "v1.0.0"}

	// The module's go.mod and zip, as a module proxy serves them.
	gomod := []byte("module example.com/Hello\n")
	var zipData bytes.Buffer
	zw := zip.NewWriter(&zipData)
	for name, content := range map[string]string{"go.mod": string(gomod), "hello.go": "package hello\n"} {
		w, _ := zw.Create(mod.Path + "@" + mod.Version + "/" + name)
		w.Write([]byte(content))
	}
	zw.Close()

	if _, err := c.WriteGoMod(ctx, mod, gomod); err != nil {
		log.Fatal(err)
	}
	fetch := func(ctx context.Context, w *modnet.ZipTemp) error {
		_, err := w.Write(zipData.Bytes())
		return err
	}
	verify := func(ctx context.Context, hash string) error {
		fmt.Println("verifying", hash) // compare with go.sum here
		return nil
	}
	if _, err := c.DownloadZip(ctx, mod, fetch, verify); err != nil {
		log.Fatal(err)
	}
	if _, err := c.Extract(ctx, mod); err != nil {
		log.Fatal(err)
	}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			fmt.Println(filepath.ToSlash(rel))
		}
		return nil
	})
	// Output:
	// verifying h1:cDollOlr+Amw0dXkFPvLymCXT+8Wf0EDL8iP1Su1il0=
	// cache/download/example.com/!hello/@v/list
	// cache/download/example.com/!hello/@v/v1.0.0.lock
	// cache/download/example.com/!hello/@v/v1.0.0.mod
	// cache/download/example.com/!hello/@v/v1.0.0.zip
	// cache/download/example.com/!hello/@v/v1.0.0.ziphash
	// example.com/!hello@v1.0.0/go.mod
	// example.com/!hello@v1.0.0/hello.go
}
