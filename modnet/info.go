package modnet

import "time"

// Info is a module version's metadata, the .info file of the proxy protocol
// and of the module cache. Its JSON form is the go command's
// (cmd/go/internal/modfetch.RevInfo).
type Info struct {
	Version string    // canonical version
	Time    time.Time // commit time
	// Origin records where the version came from when it was resolved from a
	// version control repository; proxies may pass it through.
	Origin *Origin `json:",omitempty"`
}

// Origin is the provenance of a version resolved from a repository, as the
// go command records it (cmd/go/internal/modfetch/codehost.Origin).
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
