//go:build !unix

package modnet

import (
	"io"
	"io/fs"
	"os"
)

// createFile creates the file name for writing, failing if it exists.
func createFile(name string, perm fs.FileMode) (io.WriteCloser, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
}
