//go:build !unix

package main

import (
	"testing"

	"github.com/modkit/modkit/internal/testenv"
)

// checkSignals has nothing to check where signals are not forwarded.
func checkSignals(t *testing.T, g *testenv.Go) {}
