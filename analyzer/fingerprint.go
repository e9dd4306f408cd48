package analyzer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"go/build"
	"os"

	"github.com/modkit/modkit/modnet/modload"
)

// Fingerprint returns a digest of every file-system input the analyzer
// reads for the modules a go command started in dir works on: their go.mod
// files, the go.work above each, the directories and go.mod files of their
// local replacements, the go.mod files of their module graphs in the
// module cache (and which ones it lacks), their repository roots, their
// owner packages and whether they hold a main package. The digest changes whenever any of
// those does and is stable otherwise.
//
// go vet caches a vet tool's results (diagnostics, JSON and fixes alike)
// under a key made of the package's compile inputs, the tool's flags and the
// tool's "-V=full" answer (cmd/go/internal/work: Builder.vet and
// Builder.toolID). go.mod is not among the compile inputs, so a vet tool
// whose findings are about go.mod would replay stale findings, and stale
// fixes, from the cache. cmd/modreplace therefore puts this fingerprint,
// computed in the go command's directory, into its "-V=full" answer, which
// the go command asks for once per run.
//
// The modules are found as cmd/go's modload.InitWorkfile and
// modload.findModuleRoot (cmd/go/internal/modload/init.go) find them:
// with GOWORK=off, the go.mod at or above dir; with GOWORK set to a file,
// the modules it uses; otherwise the modules of the go.work at or above
// dir, or else the go.mod at or above dir. Problems (unreadable files) are
// part of the digest, never an error: the go command reports them itself.
func Fingerprint(dir string) string {
	h := sha256.New()
	src := &ModnetSource{}
	for _, gomod := range moduleFilesFor(dir) {
		fmt.Fprintf(h, "module %q\n", gomod)
		m, err := loadModule(gomod)
		if err != nil {
			fmt.Fprintf(h, "error %q\n", err)
			continue
		}
		m.writeInputs(h)
		writeGraph(h, loadGraph(context.Background(), m, src.loaders().get(src, false)))
		owner, err := ownerDir(m)
		fmt.Fprintf(h, "owner %q %v\n", owner, err)
		hasMain, err := hasMainPackage(m)
		fmt.Fprintf(h, "main %v %v\n", hasMain, err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// moduleFilesFor returns the go.mod files of the main modules of a go
// command started in dir.
func moduleFilesFor(dir string) []string {
	file, work, err := modload.FindMain(dir, os.Getenv("GOWORK"), build.Default.GOROOT)
	switch {
	case err != nil || file == "":
		return nil
	case work:
		mods, _ := modload.WorkGoMods(file) // none for a go.work the go command cannot read either
		return mods
	}
	return []string{file}
}
