package golangci_test

import (
	"fmt"
	"log"

	"github.com/modkit/modkit/analyzer/golangci"
)

// golangci-lint calls New with the linter's settings from .golangci.yml,
// then asks for the analyzers and the load mode.
func ExampleNew() {
	p, err := golangci.New(map[string]any{"enable": []any{"undocumented"}})
	if err != nil {
		log.Fatal(err)
	}
	analyzers, err := p.BuildAnalyzers()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(analyzers[0].Name, p.GetLoadMode())
	// Output: modreplace syntax
}
