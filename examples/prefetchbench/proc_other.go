//go:build !unix

package main

import (
	"os"
	"os/exec"
)

// maxRSS is unknown here.
func maxRSS(*os.ProcessState) int64 { return 0 }

// killGroup leaves cmd's cancellation as it is: it kills the wrapper only.
func killGroup(*exec.Cmd) {}

// settle does nothing here.
func settle() {}
