//go:build !linux && !darwin && !freebsd && !windows

package envcheck

import "errors"

// diskFree is not implemented on this system; the cache checks then skip
// the free-space test.
func diskFree(dir string) (uint64, error) {
	return 0, errors.ErrUnsupported
}
