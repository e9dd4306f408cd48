package modnet

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
)

// fakeGOROOT makes a directory with a go.env file and returns its path.
func fakeGOROOT(t testing.TB, goenv string) string {
	t.Helper()
	dir := t.TempDir()
	if goenv != "" {
		if err := os.WriteFile(filepath.Join(dir, "go.env"), []byte(goenv), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func writeFile(t testing.TB, path, data string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const testGoEnv = "# defaults\nGOPROXY=https://proxy.example.test,direct\nGOSUMDB=sum.golang.org\nGOTOOLCHAIN=auto\n"

func TestEnvLayers(t *testing.T) {
	goroot := fakeGOROOT(t, testGoEnv)
	home := t.TempDir()
	userFile := filepath.Join(home, ".config", "go", "env")

	tests := []struct {
		name     string
		os       map[string]string
		file     string // contents of the GOENV file at $HOME/.config/go/env
		want     map[string]string
		origin   map[string]Layer
		wantFrom map[string]string // DerivedFrom
	}{
		{
			name:   "go.env defaults",
			want:   map[string]string{"GOPROXY": "https://proxy.example.test,direct", "GOSUMDB": "sum.golang.org", "GOAUTH": "netrc", "GOTOOLCHAIN": "auto", "GOPRIVATE": "", "GOPATH": filepath.Join(home, "go"), "GOMODCACHE": filepath.Join(home, "go", "pkg", "mod")},
			origin: map[string]Layer{"GOPROXY": LayerGOROOT, "GOAUTH": LayerDefault, "GOPRIVATE": LayerUnset, "GOPATH": LayerDefault, "GOMODCACHE": LayerDefault},
		},
		{
			name:     "GOENV file beats go.env",
			file:     "GOPROXY=https://corp.example.test\nGOPRIVATE=corp.example.test\n",
			want:     map[string]string{"GOPROXY": "https://corp.example.test", "GOPRIVATE": "corp.example.test", "GONOPROXY": "corp.example.test", "GONOSUMDB": "corp.example.test"},
			origin:   map[string]Layer{"GOPROXY": LayerEnvFile, "GONOPROXY": LayerDefault},
			wantFrom: map[string]string{"GONOPROXY": "GOPRIVATE", "GONOSUMDB": "GOPRIVATE"},
		},
		{
			name:   "OS beats GOENV file",
			os:     map[string]string{"GOPROXY": "off"},
			file:   "GOPROXY=https://corp.example.test\n",
			want:   map[string]string{"GOPROXY": "off"},
			origin: map[string]Layer{"GOPROXY": LayerOS},
		},
		{
			name:   "empty OS value is unset",
			os:     map[string]string{"GOPROXY": "", "GOSUMDB": ""},
			file:   "GOSUMDB=sum.example.test+abc+def\n",
			want:   map[string]string{"GOPROXY": "https://proxy.example.test,direct", "GOSUMDB": "sum.example.test+abc+def"},
			origin: map[string]Layer{"GOPROXY": LayerGOROOT, "GOSUMDB": LayerEnvFile},
		},
		{
			name:   "empty GOENV line wipes go.env and leaves the built-in default",
			file:   "GOPROXY=\nGOAUTH=\nGOTOOLCHAIN=\n",
			want:   map[string]string{"GOPROXY": "", "GOAUTH": "netrc", "GOTOOLCHAIN": ""},
			origin: map[string]Layer{"GOPROXY": LayerEnvFile, "GOAUTH": LayerDefault, "GOTOOLCHAIN": LayerEnvFile},
		},
		{
			name:   "explicit GONOPROXY beats GOPRIVATE",
			os:     map[string]string{"GOPRIVATE": "a.test", "GONOPROXY": "none"},
			want:   map[string]string{"GONOPROXY": "none", "GONOSUMDB": "a.test"},
			origin: map[string]Layer{"GONOPROXY": LayerOS, "GONOSUMDB": LayerDefault},
		},
		{
			name:   "GOMODCACHE follows the first GOPATH entry",
			os:     map[string]string{"GOPATH": "/p1" + string(filepath.ListSeparator) + "/p2"},
			want:   map[string]string{"GOMODCACHE": filepath.Join("/p1", "pkg", "mod")},
			origin: map[string]Layer{"GOMODCACHE": LayerDefault},
		},
		{
			name: "comments, lowercase keys and lines without = are ignored; last duplicate wins",
			file: "# comment\ngoproxy=https://lower.test\nGOPROXY\nGOPROXY=https://one.test\nGOPROXY=https://two.test\n",
			want: map[string]string{"GOPROXY": "https://two.test"},
		},
		{
			name: "carriage returns are kept as cmd/go keeps them",
			file: "GOPRIVATE=a.test\r\n",
			want: map[string]string{"GOPRIVATE": "a.test\r"},
		},
		{
			name:   "GOENV=off ignores the file",
			os:     map[string]string{"GOENV": "off"},
			file:   "GOPROXY=https://corp.example.test\n",
			want:   map[string]string{"GOPROXY": "https://proxy.example.test,direct"},
			origin: map[string]Layer{"GOPROXY": LayerGOROOT},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(userFile)
			if tt.file != "" {
				writeFile(t, userFile, tt.file)
			}
			environ := map[string]string{"HOME": home, "GOROOT": goroot, "XDG_CONFIG_HOME": ""}
			for k, v := range tt.os {
				environ[k] = v
			}
			e, err := LoadEnvFrom(environ)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range tt.want {
				if got := e.Get(name); got != want {
					t.Errorf("Get(%s) = %q, want %q", name, got, want)
				}
			}
			for name, want := range tt.origin {
				if got := e.Lookup(name).Layer; got != want {
					t.Errorf("Lookup(%s).Layer = %v, want %v", name, got, want)
				}
			}
			for name, want := range tt.wantFrom {
				if got := e.Lookup(name).DerivedFrom; got != want {
					t.Errorf("Lookup(%s).DerivedFrom = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestEnvValueOriginDetails(t *testing.T) {
	goroot := fakeGOROOT(t, testGoEnv)
	file := writeFile(t, filepath.Join(t.TempDir(), "goenv"), "GOFLAGS=-mod=mod\nGOPROXY=\n")
	e, err := LoadEnvFrom(map[string]string{"GOENV": file, "GOROOT": goroot, "GOFLAGS": "-modcacherw"})
	if err != nil {
		t.Fatal(err)
	}

	flags := e.Lookup("GOFLAGS")
	if flags.Layer != LayerOS || len(flags.Overridden) != 1 || flags.Overridden[0].File != file || flags.Overridden[0].Line != 1 {
		t.Errorf("GOFLAGS = %+v, want OS value hiding %s:1", flags, file)
	}

	proxy := e.Lookup("GOPROXY")
	if proxy.Layer != LayerEnvFile || proxy.Line != 2 || proxy.Value != "" {
		t.Fatalf("GOPROXY = %+v, want the empty line 2 of the GOENV file", proxy)
	}
	if len(proxy.Overridden) != 1 || proxy.Overridden[0].Layer != LayerGOROOT || proxy.Overridden[0].Line != 2 {
		t.Errorf("GOPROXY.Overridden = %+v, want go.env line 2", proxy.Overridden)
	}
	if want := "GOENV file " + file + ":2"; proxy.Where() != want {
		t.Errorf("Where() = %q, want %q", proxy.Where(), want)
	}
	if got, err := e.EnvFile(); got != file || err != nil {
		t.Errorf("EnvFile() = %q, %v; want %q", got, err, file)
	}
	if got := e.Get("GOENV"); got != file {
		t.Errorf("Get(GOENV) = %q, want %q", got, file)
	}
	if !e.ModCacheRW() {
		t.Error("ModCacheRW() = false with GOFLAGS=-modcacherw")
	}
	if n := len(e.EnvFileEntries()); n != 2 {
		t.Errorf("EnvFileEntries() has %d entries, want 2", n)
	}
}

func TestEnvFileLocation(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" || runtime.GOOS == "plan9" {
		t.Skip("XDG rules apply to Unix systems other than macOS")
	}
	goroot := fakeGOROOT(t, "")
	xdg := t.TempDir()
	writeFile(t, filepath.Join(xdg, "go", "env"), "GOPRIVATE=xdg.test\n")

	e, _ := LoadEnvFrom(map[string]string{"XDG_CONFIG_HOME": xdg, "HOME": t.TempDir(), "GOROOT": goroot})
	if got := e.Get("GOPRIVATE"); got != "xdg.test" {
		t.Errorf("with XDG_CONFIG_HOME: GOPRIVATE = %q, want xdg.test", got)
	}

	e, _ = LoadEnvFrom(map[string]string{"XDG_CONFIG_HOME": "relative/dir", "GOROOT": goroot})
	if _, err := e.EnvFile(); err == nil || !strings.Contains(err.Error(), "relative") {
		t.Errorf("relative XDG_CONFIG_HOME: EnvFile() error = %v, want one about a relative path", err)
	}

	e, _ = LoadEnvFrom(map[string]string{"GOENV": "off", "GOROOT": goroot})
	if _, err := e.EnvFile(); err == nil || err.Error() != "GOENV=off" {
		t.Errorf("GOENV=off: EnvFile() error = %v, want GOENV=off", err)
	}
}

// TestEnvGOROOTFromEnvFile checks cmd/go's rule that the GOENV file's GOROOT
// locates go.env, even when the environment also sets GOROOT.
func TestEnvGOROOTFromEnvFile(t *testing.T) {
	fileRoot := fakeGOROOT(t, "GOPROXY=https://from-file-goroot.test\n")
	osRoot := fakeGOROOT(t, "GOPROXY=https://from-os-goroot.test\n")
	file := writeFile(t, filepath.Join(t.TempDir(), "env"), "GOROOT="+fileRoot+"\n")

	e, _ := LoadEnvFrom(map[string]string{"GOENV": file, "GOROOT": osRoot})
	if got := e.Get("GOPROXY"); got != "https://from-file-goroot.test" {
		t.Errorf("GOPROXY = %q, want the value from the GOENV file's GOROOT", got)
	}
	if got := e.Get("GOROOT"); got != osRoot {
		t.Errorf("GOROOT = %q, want the environment's %q", got, osRoot)
	}
}

func TestEnvUnreadableFile(t *testing.T) {
	dir := t.TempDir() // a directory cannot be read as a file
	_, err := LoadEnvFrom(map[string]string{"GOENV": dir, "GOROOT": fakeGOROOT(t, "")})
	if err == nil || !strings.Contains(err.Error(), "reading GOENV file") {
		t.Errorf("LoadEnvFrom with GOENV=a directory: error = %v, want a reading error", err)
	}
}

func TestZeroEnv(t *testing.T) {
	var e Env
	if got := e.Get("GOAUTH"); got != "netrc" {
		t.Errorf("zero Env GOAUTH = %q, want netrc", got)
	}
	if _, err := e.Route("example.com/m"); err == nil {
		t.Error("zero Env Route succeeded; want the empty GOPROXY list error")
	}
}

// TestEnvMatchesGoCommand loads layered configurations and compares every
// value with 'go env -json' run on the same files and environment.
func TestEnvMatchesGoCommand(t *testing.T) {
	goBin := testenv.GoBin(t)
	realRoot := testenv.GOROOT()

	cases := []struct {
		name string
		os   map[string]string
		file string
	}{
		{name: "defaults"},
		{name: "file settings", file: "GOPROXY=https://a.test|https://b.test,direct\nGOPRIVATE=*.corp.test,x.test/y\nGOFLAGS=-mod=mod\n"},
		{name: "wiped defaults", file: "GOPROXY=\nGOSUMDB=\nGOAUTH=\n"},
		{name: "os over file", os: map[string]string{"GOPROXY": "off", "GONOSUMDB": "z.test"}, file: "GOPROXY=direct\nGOPRIVATE=p.test\n"},
		{name: "empty os values", os: map[string]string{"GOPROXY": "", "GOPRIVATE": ""}, file: "GOPRIVATE=q.test\n"},
		{name: "gopath list", os: map[string]string{"GOPATH": "/g1" + string(filepath.ListSeparator) + "/g2"}},
		{name: "explicit gomodcache", file: "GOMODCACHE=/mc\nGONOPROXY=none\nGOINSECURE=ins.test\nGOVCS=*:off\n"},
	}
	names := []string{"GOPROXY", "GONOPROXY", "GOPRIVATE", "GONOSUMDB", "GOSUMDB", "GOINSECURE", "GOVCS", "GOAUTH", "GOFLAGS", "GOMODCACHE", "GOPATH", "GOTOOLCHAIN", "GOROOT", "GOENV"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			home := testenv.Home(t)
			envFile := filepath.Join(home, "goenv")
			writeFile(t, envFile, c.file)
			environ := map[string]string{"HOME": home, "GOENV": envFile, "PATH": os.Getenv("PATH"), "GOROOT": realRoot, "GOTOOLCHAIN": "local"}
			for k, v := range c.os {
				environ[k] = v
			}
			e, err := LoadEnvFrom(environ)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(goBin, append([]string{"env", "-json"}, names...)...)
			cmd.Env = nil
			for k, v := range environ {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			var want map[string]string
			if err := json.Unmarshal(mustOutput(t, cmd), &want); err != nil {
				t.Fatal(err)
			}
			for _, name := range names {
				if got := e.Get(name); got != want[name] {
					t.Errorf("%s = %q, go env says %q", name, got, want[name])
				}
			}
		})
	}
}

func mustOutput(t *testing.T, cmd *exec.Cmd) []byte {
	t.Helper()
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("%s: %v\n%s", cmd, err, ee.Stderr)
		}
		t.Fatalf("%s: %v", cmd, err)
	}
	return out
}

func TestSplitGOFLAGS(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: "", want: nil},
		{in: "  -mod=mod\t-modcacherw\n", want: []string{"-mod=mod", "-modcacherw"}},
		{in: `"-ldflags=-s -w" '-tags=a b'`, want: []string{"-ldflags=-s -w", "-tags=a b"}},
		{in: "--trimpath", want: []string{"--trimpath"}},
		{in: "-mod mod", wantErr: `non-flag "mod"`},
		{in: `"-x`, wantErr: "unterminated \" string"},
		{in: "---x", wantErr: `non-flag "---x"`},
		{in: "-=x", wantErr: `non-flag "-=x"`},
	}
	for _, tt := range tests {
		got, err := splitGOFLAGS(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("splitGOFLAGS(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("splitGOFLAGS(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestGoFlag(t *testing.T) {
	for _, tt := range []struct {
		flags string
		rw    bool
	}{
		{"-modcacherw", true},
		{"--modcacherw=true", true},
		{"-modcacherw=false", false},
		{"-modcacherw -modcacherw=0", false},
		{"-mod=mod", false},
		{"-modcacherw bad", false},
	} {
		e, _ := LoadEnvFrom(map[string]string{"GOFLAGS": tt.flags, "GOENV": "off", "GOROOT": t.TempDir()})
		if got := e.ModCacheRW(); got != tt.rw {
			t.Errorf("GOFLAGS=%q: ModCacheRW() = %v, want %v", tt.flags, got, tt.rw)
		}
	}
}

func FuzzParseEnvFile(f *testing.F) {
	f.Add([]byte("GOPROXY=x\n# c\nA=\r\nb=c\n=\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, v := range parseEnvFile(data, "f", LayerEnvFile) {
			if v.Name == "" || v.Name[0] < 'A' || v.Name[0] > 'Z' || strings.ContainsAny(v.Name, "=\n") || strings.Contains(v.Value, "\n") || v.Line < 1 {
				t.Fatalf("bad entry %+v", v)
			}
		}
	})
}

func FuzzSplitGOFLAGS(f *testing.F) {
	f.Add(`-a "-b=c d" '-e'`)
	f.Fuzz(func(t *testing.T, s string) {
		flags, err := splitGOFLAGS(s)
		if err != nil {
			return
		}
		for _, fl := range flags {
			if !strings.HasPrefix(fl, "-") {
				t.Fatalf("splitGOFLAGS(%q) returned non-flag %q", s, fl)
			}
		}
	})
}
