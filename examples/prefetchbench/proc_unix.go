//go:build unix

package main

import (
	"os"
	"runtime"
	"syscall"
)

// maxRSS returns a finished command's peak resident set size in bytes:
// rusage's Maxrss, which is in kilobytes on Linux and bytes on Darwin.
func maxRSS(ps *os.ProcessState) int64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss)
	}
	return int64(ru.Maxrss) << 10
}
