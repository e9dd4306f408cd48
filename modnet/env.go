package modnet

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/modkit/modkit/internal/osenv"
)

// A Layer says which configuration layer a setting came from. The go
// command consults the layers in this order, highest precedence first:
// the process environment, the GOENV file written by 'go env -w',
// $GOROOT/go.env, and its built-in defaults.
type Layer int

const (
	// LayerUnset means no layer set the variable and it has no default.
	LayerUnset Layer = iota
	// LayerDefault is the go command's built-in default
	// (for GONOPROXY and GONOSUMDB: the value of GOPRIVATE).
	LayerDefault
	// LayerGOROOT is the $GOROOT/go.env file shipped with the toolchain.
	LayerGOROOT
	// LayerEnvFile is the user's GOENV file, maintained by 'go env -w'.
	LayerEnvFile
	// LayerOS is the process environment (or the map given to [LoadEnvFrom]).
	LayerOS
)

var layerNames = [...]string{"unset", "default", "go.env", "GOENV file", "environment"}

// String returns a short name for the layer, such as "GOENV file".
func (o Layer) String() string {
	if int(o) < len(layerNames) {
		return layerNames[o]
	}
	return fmt.Sprintf("Layer(%d)", int(o))
}

// A Value is the effective setting of one variable and where it came from.
type Value struct {
	// Name is the variable, such as "GOPROXY".
	Name string
	// Value is the effective value the go command would use.
	Value string
	// Layer is the layer that decided Value.
	Layer Layer
	// File is the file that set the value, for LayerEnvFile and LayerGOROOT.
	File string
	// Line is the 1-based line in File.
	Line int
	// DerivedFrom names the variable whose value was used as the default,
	// as GONOPROXY and GONOSUMDB default to GOPRIVATE.
	DerivedFrom string
	// Overridden lists lower-precedence settings of the same variable that this
	// one hides, highest precedence first. An empty "X=" line in the GOENV file
	// overrides $GOROOT/go.env and leaves the built-in default in effect; such
	// a line appears here as well, so a doctor can point at it.
	Overridden []Value
}

// Where describes where the value came from, for messages: "environment",
// "GOENV file /home/u/.config/go/env:3", "go.env /usr/local/go/go.env:7",
// "default", "default from GOPRIVATE".
func (v Value) Where() string {
	switch {
	case v.File != "" && v.Line > 0:
		return fmt.Sprintf("%s %s:%d", v.Layer, v.File, v.Line)
	case v.File != "":
		return fmt.Sprintf("%s %s", v.Layer, v.File)
	case v.DerivedFrom != "":
		return fmt.Sprintf("%s from %s", v.Layer, v.DerivedFrom)
	}
	return v.Layer.String()
}

// String formats the value as NAME=value followed by its origin.
func (v Value) String() string {
	return fmt.Sprintf("%s=%s (%s)", v.Name, v.Value, v.Where())
}

// Vars lists the variables an [Env] resolves with the go command's
// precedence, defaults and derivations. Other names can still be read with
// [Env.Lookup]; they follow the same layering without a default.
var Vars = []string{
	"GOAUTH", "GOENV", "GOFLAGS", "GOINSECURE", "GOMODCACHE", "GONOPROXY",
	"GONOSUMDB", "GOPATH", "GOPRIVATE", "GOPROXY", "GOROOT", "GOSUMDB",
	"GOTOOLCHAIN", "GOVCS",
}

// An Env is a module-download environment, loaded as the go command loads
// its configuration (cmd/go/internal/cfg: Getenv, EnvOrAndChanged,
// initEnvCache). Each variable is read from the first of:
//
//  1. the process environment, where an empty value counts as unset;
//  2. the GOENV file ('go env -w'): $GOENV if set, none if GOENV=off,
//     else os.UserConfigDir()/go/env; a line "X=" here counts, and hides
//     $GOROOT/go.env's X;
//  3. $GOROOT/go.env;
//  4. the built-in default.
//
// An empty effective value falls back to the built-in default, as in cmd/go.
//
// The zero Env has every variable unset; use [LoadEnv] or [LoadEnvFrom].
// An Env is immutable after loading and safe for concurrent use.
type Env struct {
	os      map[string]string
	file    envFile // GOENV file
	goroot  envFile // $GOROOT/go.env
	gorootV Value   // how GOROOT was found
	fileErr error   // why there is no GOENV file (GOENV=off, no config dir)

	proxyOnce sync.Once // parses GOPROXY once, as cmd/go does
	proxies   []Source
	proxyErr  error
}

// envFile is one parsed env file: the go command's readEnvFile rules.
type envFile struct {
	path    string
	entries []Value // in file order, later duplicates after earlier
	err     error   // reading the file; a missing file is not an error
}

// LoadEnv loads the environment of the running process.
//
// GOROOT is found like the go command finds it: $GOROOT, then GOROOT in the
// GOENV file; since this process is not the go command, it cannot find GOROOT
// from its own executable, so if neither is set it runs 'go env GOROOT' with
// the go binary on $PATH, once per call. Without GOROOT, $GOROOT/go.env is
// not read and GOPROXY and GOSUMDB are empty: the go command then fails too.
func LoadEnv() (*Env, error) {
	return loadEnv(osEnviron(), os.UserConfigDir)
}

// LoadEnvFrom loads an environment that uses environ in place of the process
// environment, for tests and embedders. Files (the GOENV file, $GOROOT/go.env)
// are still read from disk, at the locations environ implies (GOENV, HOME,
// XDG_CONFIG_HOME, GOROOT). Set GOROOT in environ to avoid running
// 'go env GOROOT'.
func LoadEnvFrom(environ map[string]string) (*Env, error) {
	m := make(map[string]string, len(environ))
	for k, v := range environ {
		m[k] = v
	}
	return loadEnv(m, func() (string, error) { return osenv.UserConfigDir(func(k string) string { return m[k] }) })
}

func osEnviron() map[string]string {
	m := make(map[string]string)
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			m[k] = v
		}
	}
	return m
}

func loadEnv(environ map[string]string, configDir func() (string, error)) (*Env, error) {
	e := &Env{os: environ}

	// cmd/go/internal/cfg.EnvFile: only the process environment sets GOENV.
	switch file := environ["GOENV"]; file {
	case "off":
		e.fileErr = errors.New("GOENV=off")
	case "":
		dir, err := configDir()
		if err == nil && dir == "" {
			err = errors.New("missing user-config dir")
		}
		if err != nil {
			e.fileErr = err
		} else {
			e.file = readEnvFile(filepath.Join(dir, "go", "env"), LayerEnvFile)
		}
	default:
		e.file = readEnvFile(file, LayerEnvFile)
	}

	// cmd/go/internal/cfg.initEnvCache and findGOROOT: the go.env file is looked
	// up with the GOENV file's GOROOT first, then $GOROOT.
	if v, ok := e.file.last("GOROOT"); ok && v.Value != "" {
		e.gorootV = v
	} else if g := environ["GOROOT"]; g != "" {
		e.gorootV = Value{Name: "GOROOT", Value: g, Layer: LayerOS}
	} else if g, err := goEnvGOROOT(environ); err == nil && g != "" {
		e.gorootV = Value{Name: "GOROOT", Value: g, Layer: LayerDefault}
	}
	if e.gorootV.Value != "" {
		e.gorootV.Value = filepath.Clean(e.gorootV.Value)
		e.goroot = readEnvFile(filepath.Join(e.gorootV.Value, "go.env"), LayerGOROOT)
	}
	if e.file.err != nil {
		return e, fmt.Errorf("reading GOENV file: %w", e.file.err)
	}
	return e, nil
}

// goEnvGOROOT asks the go command on environ's PATH for its GOROOT.
func goEnvGOROOT(environ map[string]string) (string, error) {
	path, err := osenv.LookPath("go", environ["PATH"])
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "env", "GOROOT")
	for k, v := range environ {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "GOTOOLCHAIN=local") // never download a toolchain to answer this
	out, err := cmd.Output()
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// readEnvFile parses an env file with cmd/go/internal/cfg.readEnvFile's
// rules: one KEY=VALUE per line, no quoting, lines without '=' or not
// starting with A-Z ignored. A missing file is not an error.
func readEnvFile(path string, layer Layer) envFile {
	f := envFile{path: path}
	data, err := os.ReadFile(path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			f.err = err
		}
		return f
	}
	f.entries = parseEnvFile(data, path, layer)
	return f
}

func parseEnvFile(data []byte, path string, layer Layer) []Value {
	var vals []Value
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	sc.Split(splitLF)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		i := strings.IndexByte(line, '=')
		if i < 0 || line[0] < 'A' || 'Z' < line[0] {
			continue
		}
		vals = append(vals, Value{Name: line[:i], Value: line[i+1:], Layer: layer, File: path, Line: n})
	}
	return vals
}

// splitLF splits on '\n' only and keeps '\r', as cmd/go does.
func splitLF(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// last returns the effective entry for name: the last line that sets it.
func (f envFile) last(name string) (Value, bool) {
	for i := len(f.entries) - 1; i >= 0; i-- {
		if f.entries[i].Name == name {
			return f.entries[i], true
		}
	}
	return Value{}, false
}

// Get returns the effective value of a variable, as 'go env NAME' prints it.
func (e *Env) Get(name string) string {
	return e.Lookup(name).Value
}

// Lookup returns the effective value of a variable with its origin.
func (e *Env) Lookup(name string) Value {
	if name == "GOROOT" {
		return e.lookupGOROOT()
	}
	if name == "GOENV" {
		return e.lookupGOENV()
	}
	v := e.raw(name)
	if v.Value != "" {
		return v
	}
	def := e.defaultValue(name)
	if def.Value == "" && v.Layer != LayerUnset {
		// An explicit empty setting with no default: report the layer that set it.
		return v
	}
	if v.Layer != LayerUnset {
		hidden := v.Overridden
		v.Overridden = nil
		def.Overridden = append(append([]Value{v}, hidden...), def.Overridden...)
	}
	return def
}

// raw applies the three configured layers (cmd/go/internal/cfg.Getenv):
// a non-empty OS value, else the GOENV file's entry (even an empty one), else
// $GOROOT/go.env's.
func (e *Env) raw(name string) Value {
	var layers []Value
	if s := e.os[name]; s != "" {
		layers = append(layers, Value{Name: name, Value: s, Layer: LayerOS})
	}
	fileV, inFile := e.file.last(name)
	if inFile {
		layers = append(layers, fileV)
	}
	if g, ok := e.goroot.last(name); ok {
		layers = append(layers, g)
	}
	if len(layers) == 0 {
		return Value{Name: name}
	}
	v := layers[0]
	v.Overridden = layers[1:]
	return v
}

// defaultValue is the go command's built-in default for name.
func (e *Env) defaultValue(name string) Value {
	v := Value{Name: name, Layer: LayerDefault}
	switch name {
	case "GOAUTH":
		v.Value = "netrc"
	case "GONOPROXY", "GONOSUMDB":
		p := e.Lookup("GOPRIVATE")
		if p.Value == "" {
			return Value{Name: name}
		}
		v.Value = p.Value
		v.DerivedFrom = "GOPRIVATE"
	case "GOPATH":
		v.Value = e.defaultGOPATH()
	case "GOMODCACHE":
		if dir := firstGOPATH(e.Get("GOPATH")); dir != "" {
			v.Value = filepath.Join(dir, "pkg", "mod")
			v.DerivedFrom = "GOPATH"
		}
	}
	if v.Value == "" {
		return Value{Name: name}
	}
	return v
}

// defaultGOPATH is go/build.defaultGOPATH: $HOME/go unless that is GOROOT.
func (e *Env) defaultGOPATH() string {
	home := "HOME"
	switch runtime.GOOS {
	case "windows":
		home = "USERPROFILE"
	case "plan9":
		home = "home"
	}
	h := e.os[home]
	if h == "" {
		return ""
	}
	def := filepath.Join(h, "go")
	if g := e.lookupGOROOT().Value; g != "" && filepath.Clean(def) == filepath.Clean(g) {
		return ""
	}
	return def
}

func firstGOPATH(gopath string) string {
	list := filepath.SplitList(gopath)
	if len(list) == 0 {
		return ""
	}
	return list[0]
}

// lookupGOROOT reports GOROOT: the process environment wins
// (cmd/go/internal/cfg.Getenv), else the directory found at load time.
func (e *Env) lookupGOROOT() Value {
	if g := e.os["GOROOT"]; g != "" {
		return Value{Name: "GOROOT", Value: filepath.Clean(g), Layer: LayerOS}
	}
	return e.gorootV
}

// lookupGOENV reports the GOENV file's location as 'go env GOENV' does.
func (e *Env) lookupGOENV() Value {
	if s := e.os["GOENV"]; s != "" {
		return Value{Name: "GOENV", Value: s, Layer: LayerOS}
	}
	if e.file.path == "" {
		return Value{Name: "GOENV"}
	}
	return Value{Name: "GOENV", Value: e.file.path, Layer: LayerDefault}
}

// Values returns the effective value of every variable in [Vars].
func (e *Env) Values() []Value {
	vals := make([]Value, 0, len(Vars))
	for _, name := range Vars {
		vals = append(vals, e.Lookup(name))
	}
	return vals
}

// EnvFile returns the path of the GOENV file the go command reads, or an
// error saying why there is none (GOENV=off, no user configuration
// directory). The file need not exist.
func (e *Env) EnvFile() (string, error) {
	if e.fileErr != nil {
		return "", e.fileErr
	}
	return e.file.path, nil
}

// EnvFileEntries returns every KEY=VALUE line the go command reads from the
// GOENV file, in file order, including empty values and keys set twice.
func (e *Env) EnvFileEntries() []Value {
	return append([]Value(nil), e.file.entries...)
}

// GOROOTEnvFile returns the path of $GOROOT/go.env and its entries; the path
// is empty when GOROOT is unknown. The file may not exist: check with os.Stat.
func (e *Env) GOROOTEnvFile() (string, []Value) {
	return e.goroot.path, append([]Value(nil), e.goroot.entries...)
}

// OS returns a variable of the process environment (or of the map given to
// [LoadEnvFrom]) without consulting any file: for variables the go command
// only reads from the environment, such as HTTPS_PROXY, NETRC or HOME.
func (e *Env) OS(name string) string {
	return e.os[name]
}

// OSNames returns the names of all variables in the process environment,
// sorted.
func (e *Env) OSNames() []string {
	names := make([]string, 0, len(e.os))
	for k := range e.os {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Environ returns the process environment the Env holds, as KEY=value
// pairs in the order of OSNames: the environment of the programs modkit
// runs for it (git, GOAUTH commands).
func (e *Env) Environ() []string {
	names := e.OSNames()
	list := make([]string, 0, len(names))
	for _, k := range names {
		list = append(list, k+"="+e.OS(k))
	}
	return list
}

// LookPath finds an executable in the Env's PATH, as exec.LookPath does in
// the process's.
func (e *Env) LookPath(file string) (string, error) {
	return osenv.LookPath(file, e.OS("PATH"))
}
