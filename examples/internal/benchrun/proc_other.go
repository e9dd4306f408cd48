//go:build !unix

package benchrun

import "os/exec"

// KillGroup leaves cmd's cancellation as it is: it kills the command only.
func KillGroup(*exec.Cmd) {}

// Settle does nothing here.
func Settle() {}
