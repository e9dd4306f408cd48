//go:build unix

package benchrun

import (
	"os/exec"
	"syscall"
)

// KillGroup makes cmd's cancellation kill its whole process group: the
// command and what it started (a measuring wrapper's command, modfetch
// exec's go command).
func KillGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}

// Settle flushes dirty pages to disk before a timed run, so that no run
// pays for the writeback of what the previous one wrote and removed.
func Settle() { syscall.Sync() }
