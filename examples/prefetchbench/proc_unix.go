//go:build unix

package main

import (
	"os"
	"os/exec"
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

// killGroup makes cmd's cancellation kill its whole process group: the
// measuring wrapper and the command it runs.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}

// settle flushes dirty pages to disk before a timed run, so that no run
// pays for the writeback of the module cache the previous one wrote and
// removed.
func settle() { syscall.Sync() }
