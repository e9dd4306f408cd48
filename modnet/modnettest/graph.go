package modnettest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"golang.org/x/mod/module"
)

// GraphConfig describes a synthetic module graph. The zero value asks for
// the defaults noted on each field.
type GraphConfig struct {
	// Seed makes the graph: the same config always yields the same bytes.
	Seed uint64
	// Modules is the number of dependency modules (default 120).
	Modules int
	// Direct is how many of them the main module imports directly (default
	// Modules/5, at least 1); the others are reached through requirements.
	Direct int
	// ZipBytes is the approximate total size of the zips in the build list
	// (default 40 MiB). Sizes follow a log-normal distribution, as real
	// module sizes do: most modules are small and a few are large.
	ZipBytes int64
	// MaxRequires bounds each module's requirements (default 6).
	MaxRequires int
	// Prefix starts every module path (default "127.0.0.1/gen"). Paths under
	// a loopback address keep a mistaken GOPROXY=direct off the network.
	Prefix string
	// RealFiles gives build-list modules the shape of real ones instead of
	// a few large incompressible files: about 170 files in about 46
	// directories of compressible source-like text (ZipBytes is then the
	// approximate total once compressed), and one module in fifty with
	// thousands of files. Real modules cost their files: inflating,
	// hashing and creating each one.
	RealFiles bool
}

// A Graph is a synthetic main module and the modules it depends on, ready
// to be served (NewServer(g.Modules...)) and downloaded with
// "go mod download all".
type Graph struct {
	// Path is the main module's path.
	Path string
	// GoMod and GoSum are the main module's go.mod and go.sum files, as
	// "go mod tidy" leaves them; MainGo is its main.go, which imports the
	// direct dependencies.
	GoMod, GoSum, MainGo string
	// Modules is every module version the proxy must serve: the build list
	// and the older versions some requirements name.
	Modules []Module
	// BuildList is the versions "go list -m all" selects, main module
	// excluded, sorted by path.
	BuildList []module.Version
	// ZipBytes is the total size of the build list's zips.
	ZipBytes int64
}

// GenerateGraph builds the synthetic graph cfg describes. Each dependency
// module has one to three versions; each version's package imports the
// packages of the modules it requires, so the graph is one that "go mod
// tidy" keeps. Build-list zips hold pseudo-random, incompressible data of
// the drawn size, so their size on the wire is real; the returned modules
// carry their zips in Module.Zip, so serving them costs no rebuild.
func GenerateGraph(cfg GraphConfig) (*Graph, error) {
	cfg = cfg.withDefaults()
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6d6f646e657474))
	var dataSeed [32]byte
	binary.LittleEndian.PutUint64(dataSeed[:], cfg.Seed)
	data := rand.NewChaCha8(dataSeed)

	n := cfg.Modules
	paths := make([]string, n)
	latest := make([]int, n) // minor version of the newest release
	for i := range paths {
		paths[i] = fmt.Sprintf("%s/m%03d", cfg.Prefix, i)
		latest[i] = rng.IntN(3)
	}

	// Module i requires only modules after it, so the graph has no cycles,
	// and every module past the direct ones gets at least one requirer, so
	// that each is needed by the build.
	reqs := make([]map[int]int, n) // i → j → minor version of j required
	for i := range reqs {
		reqs[i] = make(map[int]int)
	}
	for j := cfg.Direct; j < n; j++ {
		i := rng.IntN(j)
		reqs[i][j] = rng.IntN(latest[j] + 1)
	}
	for i := range n - 1 {
		for range rng.IntN(cfg.MaxRequires + 1) {
			if len(reqs[i]) >= cfg.MaxRequires {
				break
			}
			j := i + 1 + rng.IntN(n-i-1)
			if _, ok := reqs[i][j]; !ok {
				reqs[i][j] = rng.IntN(latest[j] + 1)
			}
		}
	}

	sizes := logNormalSizes(rng, n, cfg.ZipBytes)
	g := &Graph{Path: cfg.Prefix + "/main"}
	// A quarter of the modules predate graph pruning (go 1.16), as in real
	// graphs. The go command loads the whole requirement graph below an
	// unpruned module, reading the go.mod of every version in it, but only
	// the direct requirements of a pruned (go ≥ 1.17) one, without reading
	// their go.mod files (modload/buildlist.go, readModGraph). Versions read
	// need /go.mod lines in go.sum.
	unpruned := make([]bool, n)
	for i := range unpruned {
		unpruned[i] = rng.IntN(4) == 0
	}
	needed := make(map[string]bool)
	var visit func(j, minor int)
	visit = func(j, minor int) {
		key := version(paths[j], minor)
		if needed[key] {
			return
		}
		needed[key] = true
		if minor == latest[j] { // older versions require nothing
			for k, kmin := range reqs[j] {
				visit(k, kmin)
			}
		}
	}
	for i := range n {
		if unpruned[i] {
			visit(i, latest[i])
		}
	}
	var selected []bool      // per g.Modules entry: in the build list
	var contents [][]memFile // per g.Modules entry: its files
	for i := range n {
		for minor := 0; minor <= latest[i]; minor++ {
			m := Module{Path: paths[i], Version: fmt.Sprintf("v1.%d.0", minor)}
			selected = append(selected, minor == latest[i])
			var files []memFile
			if minor == latest[i] {
				m.GoMod = depGoMod(paths[i], unpruned[i], paths, reqs[i])
				files = depFiles(data, paths[i], paths, reqs[i], sizes[i])
				if cfg.RealFiles {
					files = append(files[:1], realFiles(rng, sizes[i])...)
				}
			} else {
				m.GoMod = depGoMod(paths[i], false, paths, nil)
				files = depFiles(data, paths[i], paths, nil, 0)
			}
			g.Modules = append(g.Modules, m)
			contents = append(contents, append(files, memFile{"go.mod", []byte(m.GoMod)}))
		}
	}

	// Compressing and hashing dominate; the data is already drawn, so doing
	// them in parallel leaves the result unchanged.
	sums := make([]string, len(g.Modules))
	errs := make([]error, len(g.Modules))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for k := range g.Modules {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			m := &g.Modules[k]
			z, err := createZip(module.Version{Path: m.Path, Version: m.Version}, contents[k])
			if err != nil {
				errs[k] = err
				return
			}
			m.Zip = z
			sums[k], errs[k] = m.GoSum()
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	var lines []string
	for k, m := range g.Modules {
		zipLine, modLine, _ := strings.Cut(sums[k], "\n")
		switch {
		case selected[k]:
			lines = append(lines, zipLine+"\n", modLine)
			g.BuildList = append(g.BuildList, module.Version{Path: m.Path, Version: m.Version})
			g.ZipBytes += int64(len(m.Zip))
		case needed[m.String()]:
			lines = append(lines, modLine)
		}
	}
	slices.Sort(lines)
	g.GoSum = strings.Join(lines, "")
	g.GoMod = mainGoMod(g.Path, paths, cfg.Direct, latest)
	g.MainGo = goSource("main", paths[:cfg.Direct], "func main() {}\n")
	return g, nil
}

// WriteMain writes the main module (go.mod, go.sum, main.go) into dir.
func (g *Graph) WriteMain(dir string) error {
	for name, text := range map[string]string{"go.mod": g.GoMod, "go.sum": g.GoSum, "main.go": g.MainGo} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o666); err != nil {
			return err
		}
	}
	return nil
}

func (cfg GraphConfig) withDefaults() GraphConfig {
	if cfg.Modules <= 0 {
		cfg.Modules = 120
	}
	if cfg.Direct <= 0 {
		cfg.Direct = max(1, cfg.Modules/5)
	}
	cfg.Direct = min(cfg.Direct, cfg.Modules)
	if cfg.ZipBytes <= 0 {
		cfg.ZipBytes = 40 << 20
	}
	if cfg.MaxRequires <= 0 {
		cfg.MaxRequires = 6
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "127.0.0.1/gen"
	}
	return cfg
}

func version(path string, minor int) string { return fmt.Sprintf("%s@v1.%d.0", path, minor) }

// logNormalSizes draws n sizes with a spread like that of real module zips
// (σ = 1.2: the largest is tens of times the median) and scales them to add
// up to total.
func logNormalSizes(rng *rand.Rand, n int, total int64) []int64 {
	raw := make([]float64, n)
	sum := 0.0
	for i := range raw {
		raw[i] = math.Exp(1.2 * rng.NormFloat64())
		sum += raw[i]
	}
	sizes := make([]int64, n)
	for i, r := range raw {
		sizes[i] = max(1<<10, int64(r/sum*float64(total)))
	}
	return sizes
}

// depFiles returns the files of a dependency module: a package importing the
// packages it requires, and size bytes of incompressible data split into
// files of at most 1 MiB.
func depFiles(data *rand.ChaCha8, path string, paths []string, reqs map[int]int, size int64) []memFile {
	var imports []string
	for _, j := range sortedKeys(reqs) {
		imports = append(imports, paths[j])
	}
	name := path[strings.LastIndex(path, "/")+1:]
	src := goSource(name, imports, fmt.Sprintf("// Size is the size of this module's data.\nconst Size = %d\n", size))
	files := []memFile{{name + ".go", []byte(src)}}
	for k := 0; size > 0; k++ {
		chunk := min(size, 1<<20)
		b := make([]byte, chunk)
		_, _ = data.Read(b)
		files = append(files, memFile{fmt.Sprintf("data/blob%02d.bin", k), b})
		size -= chunk
	}
	return files
}

// realFiles returns about 170 files (thousands for one module in fifty)
// in about 46 directories, of source-like text that compresses about
// threefold to about size bytes in all.
func realFiles(rng *rand.Rand, size int64) []memFile {
	nfiles, ndirs := 120+rng.IntN(100), 30+rng.IntN(32)
	if rng.IntN(50) == 0 {
		nfiles, ndirs = 2000+rng.IntN(3000), 300+rng.IntN(300)
	}
	words := []string{"func", "return", "if", "err", "nil", "for", "range", "type", "struct", "string",
		"int", "package", "import", "var", "const", "map", "case", "switch", "default", "ctx", "value", "x", "i"}
	raw := size * 3 // compressed about threefold
	files := make([]memFile, 0, nfiles)
	for k := range nfiles {
		n := max(64, int(raw/int64(nfiles)/2+int64(rng.IntN(int(max(1, raw/int64(nfiles)))))))
		var b strings.Builder
		for b.Len() < n {
			b.WriteString(words[rng.IntN(len(words))])
			if rng.IntN(8) == 0 {
				b.WriteString("\n\t")
			} else {
				b.WriteByte(' ')
			}
		}
		dir := fmt.Sprintf("d%02d/s%02d", k%ndirs/8, k%ndirs)
		files = append(files, memFile{fmt.Sprintf("%s/f%04d.go.txt", dir, k), []byte(b.String())})
	}
	return files
}

func goSource(pkg string, imports []string, body string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "package %s\n\n", pkg)
	if len(imports) > 0 {
		b.WriteString("import (\n")
		for _, p := range imports {
			fmt.Fprintf(&b, "\t_ %q\n", p)
		}
		b.WriteString(")\n\n")
	}
	b.WriteString(body)
	return b.String()
}

func depGoMod(path string, unpruned bool, paths []string, reqs map[int]int) string {
	goVersion := "1.21"
	if unpruned {
		goVersion = "1.16"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "module %s\n\ngo %s\n", path, goVersion)
	if len(reqs) > 0 {
		b.WriteString("\nrequire (\n")
		for _, j := range sortedKeys(reqs) {
			fmt.Fprintf(&b, "\t%s v1.%d.0\n", paths[j], reqs[j])
		}
		b.WriteString(")\n")
	}
	return b.String()
}

// mainGoMod writes the main go.mod as "go mod tidy" does for a go ≥ 1.17
// module: direct requirements in one block, indirect ones in a second.
func mainGoMod(path string, paths []string, direct int, latest []int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "module %s\n\ngo 1.21\n\nrequire (\n", path)
	for i := range direct {
		fmt.Fprintf(&b, "\t%s v1.%d.0\n", paths[i], latest[i])
	}
	b.WriteString(")\n")
	if direct < len(paths) {
		b.WriteString("\nrequire (\n")
		for i := direct; i < len(paths); i++ {
			fmt.Fprintf(&b, "\t%s v1.%d.0 // indirect\n", paths[i], latest[i])
		}
		b.WriteString(")\n")
	}
	return b.String()
}

func sortedKeys(m map[int]int) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
