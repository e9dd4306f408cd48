package coderepo

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/modkit/modkit/modnet/internal/codehost"
)

// memRepo is a codehost.Repo in memory: a linear history whose commits
// carry files and tags. It shows that a Repo needs no git: coderepo reads
// repositories only through the interface.
type memRepo struct {
	commits []memCommit // oldest first; the last is HEAD
}

type memCommit struct {
	hash  string
	time  time.Time
	files map[string]string
	tags  []string
}

func (m *memRepo) find(rev string) (int, error) {
	for i := len(m.commits) - 1; i >= 0; i-- {
		c := m.commits[i]
		if rev == "HEAD" && i == len(m.commits)-1 || c.hash == rev || len(rev) >= 7 && strings.HasPrefix(c.hash, rev) || slices.Contains(c.tags, rev) {
			return i, nil
		}
	}
	return 0, &codehost.NotExistError{Err: errors.New("unknown revision " + rev)}
}

func (m *memRepo) info(i int, rev string) *codehost.RevInfo {
	c := m.commits[i]
	return &codehost.RevInfo{Name: c.hash, Short: c.hash[:12], Version: rev, Time: c.time, Tags: slices.Clone(c.tags),
		Origin: &codehost.Origin{VCS: "mem", URL: "mem://repo", Hash: c.hash}}
}

func (m *memRepo) Tags(_ context.Context, prefix string) (*codehost.Tags, error) {
	t := &codehost.Tags{Origin: &codehost.Origin{VCS: "mem", URL: "mem://repo", TagPrefix: prefix, TagSum: "t1:mem"}}
	for _, c := range m.commits {
		for _, tag := range c.tags {
			if strings.HasPrefix(tag, prefix) {
				t.List = append(t.List, codehost.Tag{Name: tag, Hash: c.hash})
			}
		}
	}
	sort.Slice(t.List, func(i, j int) bool { return t.List[i].Name < t.List[j].Name })
	return t, nil
}

func (m *memRepo) Stat(_ context.Context, rev string) (*codehost.RevInfo, error) {
	i, err := m.find(rev)
	if err != nil {
		return nil, err
	}
	return m.info(i, rev), nil
}

func (m *memRepo) Latest(ctx context.Context) (*codehost.RevInfo, error) { return m.Stat(ctx, "HEAD") }

func (m *memRepo) ReadFile(_ context.Context, rev, file string, maxSize int64) ([]byte, error) {
	i, err := m.find(rev)
	if err != nil {
		return nil, err
	}
	data, ok := m.commits[i].files[file]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return []byte(data), nil
}

func (m *memRepo) Archive(_ context.Context, w io.Writer, rev, subdir string) error {
	i, err := m.find(rev)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	for name, data := range m.commits[i].files {
		if subdir != "" && !strings.HasPrefix(name, subdir+"/") {
			continue
		}
		f, err := zw.Create("repo/" + name)
		if err != nil {
			return err
		}
		io.WriteString(f, data)
	}
	return zw.Close()
}

func (m *memRepo) RecentTag(_ context.Context, rev, prefix string, allowed func(string) bool) (string, error) {
	i, err := m.find(rev)
	if err != nil {
		return "", err
	}
	best := ""
	for ; i >= 0; i-- {
		for _, tag := range m.commits[i].tags {
			if strings.HasPrefix(tag, prefix) && allowed(tag) && tag > best {
				best = tag
			}
		}
	}
	return best, nil
}

func (m *memRepo) DescendsFrom(_ context.Context, rev, tag string) (bool, error) {
	i, err := m.find(rev)
	if err != nil {
		return false, err
	}
	j, err := m.find(tag)
	return err == nil && j <= i, nil
}

func day(n int) time.Time { return time.Date(2024, 1, n, 0, 0, 0, 0, time.UTC) }

// history: v1.0.0 (no go.mod), v2.0.0 (no go.mod), then an untagged HEAD
// with a LICENSE at the root and a module in sub/.
func history() *memRepo {
	return &memRepo{commits: []memCommit{
		{hash: strings.Repeat("a", 40), time: day(1), files: map[string]string{"a.go": "package a\n"}, tags: []string{"v1.0.0", "v1.0"}},
		{hash: strings.Repeat("b", 40), time: day(2), files: map[string]string{"a.go": "package a // 2\n"}, tags: []string{"v2.0.0"}},
		{hash: strings.Repeat("c", 40), time: day(3), files: map[string]string{
			"a.go": "package a // 3\n", "LICENSE": "root license\n",
			"sub/go.mod": "module example.com/r/sub\n", "sub/s.go": "package sub\n",
		}, tags: []string{"sub/v0.1.0"}},
	}}
}

func TestVersions(t *testing.T) {
	ctx := context.Background()
	r, err := New(history(), "example.com/r", "", "example.com/r")
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Versions(ctx)
	// v1.0 is not canonical; v2.0.0 has no go.mod, so it is +incompatible.
	if want := []string{"v1.0.0", "v2.0.0+incompatible"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("Versions = %q, %v; want %q", got, err, want)
	}
	sub, err := New(history(), "example.com/r", "", "example.com/r/sub")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := sub.Versions(ctx); err != nil || !slices.Equal(got, []string{"v0.1.0"}) {
		t.Errorf("sub Versions = %q, %v; want the sub/ tag", got, err)
	}
}

func TestStat(t *testing.T) {
	ctx := context.Background()
	r, _ := New(history(), "example.com/r", "", "example.com/r")
	info, err := r.Stat(ctx, "v1.0.0")
	if err != nil || info.Version != "v1.0.0" || !info.Time.Equal(day(1)) || info.Origin.Hash != strings.Repeat("a", 40) {
		t.Errorf("Stat(v1.0.0) = %+v, %v", info, err)
	}
	// HEAD is untagged for this module: a pseudo-version after the highest
	// suitable tag, with the tags it depended on in Origin.
	info, err = r.Latest(ctx)
	want := fmt.Sprintf("v2.0.1-0.%s-%s+incompatible", day(3).Format("20060102150405"), strings.Repeat("c", 12))
	if err != nil || info.Version != want || info.Origin.TagSum != "t1:mem" {
		t.Errorf("Latest = %+v, %v; want %s with a TagSum", info, err, want)
	}
	if _, err := r.Stat(ctx, "v9.9.9"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat of a missing tag = %v; want not-exist", err)
	}
}

func TestGoModAndZip(t *testing.T) {
	ctx := context.Background()
	r, _ := New(history(), "example.com/r", "", "example.com/r")
	if gomod, err := r.GoMod(ctx, "v1.0.0"); err != nil || string(gomod) != "module example.com/r\n" {
		t.Errorf("GoMod(v1.0.0) = %q, %v; want the synthesised module line", gomod, err)
	}
	sub, _ := New(history(), "example.com/r", "", "example.com/r/sub")
	var buf bytes.Buffer
	if err := sub.Zip(ctx, &buf, "v0.1.0"); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	slices.Sort(names)
	// The module's files under path@version/, and the root's LICENSE.
	want := []string{"example.com/r/sub@v0.1.0/LICENSE", "example.com/r/sub@v0.1.0/go.mod", "example.com/r/sub@v0.1.0/s.go"}
	if !slices.Equal(names, want) {
		t.Errorf("zip holds %q, want %q", names, want)
	}
	sub.CheckGoLine = func(what string, gomod []byte) error { return errors.New(what + " is too new") }
	if err := sub.Zip(ctx, io.Discard, "v0.1.0"); err == nil || err.Error() != "example.com/r/sub@v0.1.0 is too new" {
		t.Errorf("Zip with CheckGoLine = %v", err)
	}
}

func TestNewMismatch(t *testing.T) {
	if _, err := New(history(), "example.com/other", "", "example.com/r"); err == nil || err.Error() != "mismatched repo: found example.com/other for example.com/r" {
		t.Errorf("New = %v", err)
	}
}
