package modnettest

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/sumdb/dirhash"
	modzip "golang.org/x/mod/zip"
)

// defaultTime is the commit time reported for a [Module] whose Time is zero
// and whose version is not a pseudo-version. A fixed time keeps every answer
// of the server, and so every test, reproducible.
var defaultTime = time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)

// A Module is one version of a module held in memory: the files a proxy
// serves for Path@Version are built from it.
//
// The .mod file is GoMod, else Files["go.mod"], else "module <Path>\n"; each
// Retract entry is appended as a "retract <entry>" line. The .zip is built
// with golang.org/x/mod/zip from Files plus that go.mod, so it obeys every
// rule the go command checks; set Zip to serve other bytes instead. The .info
// file reports Version and Time.
type Module struct {
	// Path is the module path, for example "example.com/Upper/v2".
	Path string
	// Version is the canonical semantic version, for example "v2.1.0".
	Version string
	// GoMod is the text of the go.mod file.
	GoMod string
	// Files maps slash-separated paths relative to the module root to file
	// contents. Files the go command leaves out of module zips (in vendor
	// directories or nested modules) are left out here too.
	Files map[string]string
	// Retract lists version intervals such as "v1.0.1" or "[v1.0.0, v1.0.5]"
	// that are appended to the go.mod file as retract directives.
	Retract []string
	// Time is the commit time in the .info file. When zero, the time encoded
	// in a pseudo-version is used, else 2024-01-01T00:00:00Z.
	Time time.Time
	// Zip, when non-nil, is served verbatim as the .zip file and Files is
	// ignored. It lets a test serve hand-made archives: malformed, with a
	// wrong prefix, oversized or empty. The go.sum line for the zip is then
	// computed from Zip's entries if it is a readable zip.
	Zip []byte
}

// String returns "path@version".
func (m Module) String() string { return m.Path + "@" + m.Version }

// ModFile returns the .mod file: the go.mod text with the retract lines.
func (m Module) ModFile() string {
	text := m.GoMod
	if text == "" {
		text = m.Files["go.mod"]
	}
	if text == "" {
		text = "module " + m.Path + "\n"
	}
	if len(m.Retract) > 0 && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	for _, r := range m.Retract {
		text += "retract " + r + "\n"
	}
	return text
}

// Info returns the .info file: JSON with Version and Time, as proxies serve it.
func (m Module) Info() []byte {
	t := m.Time
	if t.IsZero() {
		if pt, err := module.PseudoVersionTime(m.Version); err == nil {
			t = pt
		} else {
			t = defaultTime
		}
	}
	b, _ := json.Marshal(struct {
		Version string
		Time    time.Time
	}{m.Version, t.UTC()})
	return append(b, '\n')
}

// BuildZip returns the module zip: Zip if it is non-nil, else an archive
// created with golang.org/x/mod/zip from Files and the go.mod file.
func (m Module) BuildZip() ([]byte, error) {
	if m.Zip != nil {
		return m.Zip, nil
	}
	files := make([]memFile, 0, len(m.Files)+1)
	for name, content := range m.Files {
		if name != "go.mod" {
			files = append(files, memFile{name, []byte(content)})
		}
	}
	files = append(files, memFile{"go.mod", []byte(m.ModFile())})
	return createZip(module.Version{Path: m.Path, Version: m.Version}, files)
}

// createZip builds a module zip with golang.org/x/mod/zip.
func createZip(m module.Version, files []memFile) ([]byte, error) {
	// Sorted names make the archive's bytes, and so its ETag, reproducible.
	slices.SortFunc(files, func(a, b memFile) int { return strings.Compare(a.name, b.name) })
	list := make([]modzip.File, len(files))
	size := 22 // end of central directory
	for i, f := range files {
		list[i] = f
		size += len(f.data) + 2*(len(m.Path)+len(m.Version)+len(f.name)+80)
	}
	// Sized up front: growing a buffer of tens of megabytes by doubling
	// costs more than compressing it.
	buf := bytes.NewBuffer(make([]byte, 0, size))
	if err := modzip.Create(buf, m, list); err != nil {
		return nil, fmt.Errorf("modnettest: building zip for %s: %w", m, err)
	}
	return buf.Bytes(), nil
}

// GoSum returns the module's two go.sum lines, for the zip and for the .mod
// file, each ending in a newline.
func (m Module) GoSum() (string, error) {
	b, err := m.build()
	if err != nil {
		return "", err
	}
	if b.zipSum == "" {
		return "", fmt.Errorf("modnettest: %s: no go.sum line for a zip that is not a module zip: %w", m, b.zipSumErr)
	}
	return b.goSum(), nil
}

// GoSum returns the go.sum file for mods: both lines of every module, sorted
// and deduplicated as the go command writes them.
func GoSum(mods ...Module) (string, error) {
	var lines []string
	for _, m := range mods {
		s, err := m.GoSum()
		if err != nil {
			return "", err
		}
		lines = append(lines, strings.SplitAfter(strings.TrimSuffix(s, "\n"), "\n")...)
	}
	for i := range lines {
		lines[i] = strings.TrimSuffix(lines[i], "\n") + "\n"
	}
	slices.Sort(lines)
	return strings.Join(slices.Compact(lines), ""), nil
}

// builtModule holds the files of one module version as a proxy serves them.
type builtModule struct {
	path, version string
	time          time.Time
	info, mod     []byte
	zip           []byte
	zipSum        string // "h1:..." or "" if zip is not a readable zip
	zipSumErr     error
	modSum        string
	etags         map[FileKind]string
}

func (m Module) build() (*builtModule, error) {
	if err := module.Check(m.Path, m.Version); err != nil {
		return nil, fmt.Errorf("modnettest: invalid module: %w", err)
	}
	if v := module.CanonicalVersion(m.Version); v != m.Version {
		return nil, fmt.Errorf("modnettest: %s: version is not canonical (should be %s)", m, v)
	}
	z, err := m.BuildZip()
	if err != nil {
		return nil, err
	}
	b := &builtModule{
		path:    m.Path,
		version: m.Version,
		info:    m.Info(),
		mod:     []byte(m.ModFile()),
		zip:     z,
	}
	var info struct{ Time time.Time }
	_ = json.Unmarshal(b.info, &info)
	b.time = info.Time
	b.modSum, err = hashGoMod(b.mod)
	if err != nil {
		return nil, err
	}
	b.zipSum, b.zipSumErr = hashZipBytes(z)
	b.etags = map[FileKind]string{
		KindInfo: strongETag(b.info),
		KindMod:  strongETag(b.mod),
		KindZip:  strongETag(b.zip),
	}
	return b, nil
}

func (b *builtModule) goSum() string {
	return fmt.Sprintf("%s %s %s\n%s %s/go.mod %s\n", b.path, b.version, b.zipSum, b.path, b.version, b.modSum)
}

// hashGoMod computes the go.sum hash of a .mod file, as the go command does
// in modfetch.checkGoMod: dirhash.Hash1 over a single file named go.mod.
func hashGoMod(mod []byte) (string, error) {
	return dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(mod)), nil
	})
}

// hashZipBytes is dirhash.HashZip for an archive held in memory: Hash1 over
// the archive's entry names (which carry the path@version/ prefix) and
// contents.
func hashZipBytes(z []byte) (string, error) {
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		return "", err
	}
	var names []string
	byName := make(map[string]*zip.File)
	for _, f := range zr.File {
		if strings.Contains(f.Name, "\n") {
			return "", fmt.Errorf("zip entry name %q contains a newline", f.Name)
		}
		names = append(names, f.Name)
		byName[f.Name] = f
	}
	return dirhash.Hash1(names, func(name string) (io.ReadCloser, error) {
		f, ok := byName[name]
		if !ok {
			return nil, fs.ErrNotExist
		}
		return f.Open()
	})
}

// strongETag derives a strong validator from the content, so a client that
// resumes a zip with If-Range gets the rest of the same bytes or all of them.
func strongETag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// memFile is a module file held in memory, for golang.org/x/mod/zip.Create.
type memFile struct {
	name string
	data []byte
}

func (f memFile) Path() string                 { return f.name }
func (f memFile) Lstat() (os.FileInfo, error)  { return memFileInfo(f), nil }
func (f memFile) Open() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(f.data)), nil }

// memFileInfo describes a memFile as a regular, read-only file.
type memFileInfo memFile

func (fi memFileInfo) Name() string       { return path.Base(fi.name) }
func (fi memFileInfo) Size() int64        { return int64(len(fi.data)) }
func (fi memFileInfo) Mode() fs.FileMode  { return 0o444 }
func (fi memFileInfo) ModTime() time.Time { return time.Time{} }
func (fi memFileInfo) IsDir() bool        { return false }
func (fi memFileInfo) Sys() any           { return nil }

// latestVersion picks the version @latest reports among versions: the highest
// release, else the highest pre-release, else the highest pseudo-version. It
// ranks tagged versions as the go command's "latest" query does
// (modload/query.go, queryMatcher.filterVersions prefers releases over
// pre-releases); pseudo-versions come last because proxies serve @latest for
// modules that have no tags.
func latestVersion(versions []string) string {
	best := ""
	rank := func(v string) int {
		switch {
		case module.IsPseudoVersion(v):
			return 0
		case semver.Prerelease(v) != "":
			return 1
		default:
			return 2
		}
	}
	for _, v := range versions {
		if best == "" || rank(v) > rank(best) || rank(v) == rank(best) && semver.Compare(v, best) > 0 {
			best = v
		}
	}
	return best
}

// listedVersions returns the versions @v/list reports: tagged ones, sorted.
// Proxies leave pseudo-versions out of the list (cmd/go's proxyRepo.Versions
// drops them too).
func listedVersions(versions []string) []string {
	var out []string
	for _, v := range versions {
		if !module.IsPseudoVersion(v) {
			out = append(out, v)
		}
	}
	semver.Sort(out)
	return out
}
