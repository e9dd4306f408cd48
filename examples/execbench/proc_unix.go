//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// killGroup makes cmd's cancellation kill its whole process group: the
// command and what it started (modfetch exec's go command).
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}

// settle flushes dirty pages to disk before a timed run, so that no run
// pays for the writeback of what the previous one wrote and removed.
func settle() { syscall.Sync() }
