package modnettest

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// CacheFiles lists the files of a module cache (a GOMODCACHE directory),
// keyed by slash-separated path relative to it, each with a hash of its
// content. It leaves out what differs between two runs that download the
// same modules: lock files, the checksum database's cache, VCS clones and
// temporary files. Two tools that leave the same CacheFiles leave the same
// end state; [DiffCaches] says where they do not.
func CacheFiles(modcache string) (map[string]string, error) {
	files := make(map[string]string)
	err := filepath.WalkDir(modcache, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(modcache, path)
		rel = filepath.ToSlash(rel)
		switch {
		case rel == "cache/download/sumdb" || rel == "cache/vcs":
			return filepath.SkipDir
		case d.IsDir(), strings.HasSuffix(rel, ".lock"), rel == "cache/lock", strings.Contains(rel, ".tmp"):
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		files[rel] = hex.EncodeToString(sum[:8])
		return nil
	})
	return files, err
}

// DiffCaches compares two [CacheFiles] results, named nameA and nameB, and
// returns their differences sorted, one per file: "only NAME: path" or
// "content differs: path". It returns nil if they are the same.
func DiffCaches(a, b map[string]string, nameA, nameB string) []string {
	var diffs []string
	for k, v := range a {
		if w, ok := b[k]; !ok {
			diffs = append(diffs, "only "+nameA+": "+k)
		} else if v != w {
			diffs = append(diffs, "content differs: "+k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			diffs = append(diffs, "only "+nameB+": "+k)
		}
	}
	slices.Sort(diffs)
	return diffs
}
