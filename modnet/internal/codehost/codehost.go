package codehost

import (
	"context"
	"io"
	"io/fs"
	"time"
)

// Size limits of files read from a repository (codehost.MaxGoMod,
// MaxLICENSE, MaxZipFile).
const (
	MaxGoMod   = 16 << 20
	MaxLICENSE = 16 << 20
	MaxZipFile = 500 << 20
)

// A Repo is a version control repository, as cmd/go's codehost.Repo sees
// one. Revisions are tag or branch names, full or abbreviated commit
// hashes. Errors for a revision or file that does not exist match
// fs.ErrNotExist. A Repo is safe for concurrent use.
type Repo interface {
	// Tags lists the tags that start with prefix, sorted, with an Origin
	// whose TagSum summarises those that can affect versions.
	Tags(ctx context.Context, prefix string) (*Tags, error)
	// Stat resolves a revision to a commit.
	Stat(ctx context.Context, rev string) (*RevInfo, error)
	// Latest resolves the default branch's head.
	Latest(ctx context.Context) (*RevInfo, error)
	// ReadFile reads a file at a revision; larger than maxSize is an error.
	ReadFile(ctx context.Context, rev, file string, maxSize int64) ([]byte, error)
	// Archive writes a zip archive of the tree at rev, limited to subdir
	// (all if empty), with every file under one top-level directory, as
	// 'git archive' makes it with export attributes disabled.
	Archive(ctx context.Context, w io.Writer, rev, subdir string) error
	// RecentTag returns the most recent tag on rev or one of its ancestors
	// that starts with prefix and that allowed accepts, or "" if none.
	RecentTag(ctx context.Context, rev, prefix string, allowed func(tag string) bool) (tag string, err error)
	// DescendsFrom reports whether rev is tag's commit or a descendant.
	DescendsFrom(ctx context.Context, rev, tag string) (bool, error)
}

// Origin is the provenance of a revision (codehost.Origin): enough to
// check later that the repository still answers the same. Its fields and
// JSON are those of modnet.Origin, which is converted from it.
type Origin struct {
	VCS    string `json:",omitempty"` // "git"
	URL    string `json:",omitempty"` // repository URL
	Subdir string `json:",omitempty"` // module subdirectory within the repository
	Hash   string `json:",omitempty"` // commit hash

	// TagPrefix and TagSum summarise the repository's tags when the
	// resolution depended on them.
	TagPrefix string `json:",omitempty"`
	TagSum    string `json:",omitempty"`

	// Ref is the mutable reference (such as refs/heads/main) that resolved
	// to Hash.
	Ref string `json:",omitempty"`

	// RepoSum summarises the whole repository, for versions that do not exist.
	RepoSum string `json:",omitempty"`
}

// RevInfo describes one commit (cmd/go/internal/modfetch/codehost.RevInfo).
type RevInfo struct {
	Origin  *Origin
	Name    string    // full commit hash
	Short   string    // 12-digit prefix, for pseudo-versions
	Version string    // the revision asked for, or the hash
	Time    time.Time // commit time
	Tags    []string  // tags on the commit
}

// Tag is one tag and the commit it names.
type Tag struct{ Name, Hash string }

// Tags is the answer to a tag listing: the tags with a prefix, and an
// Origin whose TagSum summarises those that matter for versions.
type Tags struct {
	Origin *Origin
	List   []Tag
}

// A NotExistError keeps an error's text but makes it match fs.ErrNotExist,
// as the go command's notExistError does: not-found answers let the
// GOPROXY walk move on.
type NotExistError struct{ Err error }

func (e *NotExistError) Error() string        { return e.Err.Error() }
func (e *NotExistError) Unwrap() error        { return e.Err }
func (e *NotExistError) Is(target error) bool { return target == fs.ErrNotExist }
