package main

import (
	"flag"
	"os"

	"github.com/modkit/modkit/analyzer"
	"golang.org/x/tools/go/analysis/singlechecker"
)

func main() {
	args := os.Args[1:]
	switch {
	case len(args) == 1 && (args[0] == "-V=full" || args[0] == "--V=full"):
		os.Exit(printVersion(os.Stdout, os.Stderr))
	case goModMode(args):
		os.Exit(runGoMod(args, os.Stdout, os.Stderr))
	}
	if handled, code := answerFactsOnly(args); handled {
		os.Exit(code)
	}
	// Listed so that -help shows the mode; goModMode has handled it.
	flag.Bool("gomod", false, "check go.mod files (arguments: go.mod files or directories) without loading packages")
	singlechecker.Main(analyzer.Analyzer)
}
