//go:build !unix

package main

import "os"

func terminate(p *os.Process) error { return p.Kill() }
