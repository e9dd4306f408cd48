package lockedfile_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/modkit/modkit/modnet/internal/lockedfile"
)

// A lock file serialises modkit and the go command, as the module cache's
// cache/lock does.
func ExampleLock() {
	dir, _ := os.MkdirTemp("", "lockedfile")
	defer os.RemoveAll(dir)
	unlock, err := lockedfile.Lock(context.Background(), filepath.Join(dir, "lock"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer unlock()
	fmt.Println("locked")
	// Output: locked
}
