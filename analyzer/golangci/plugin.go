package golangci

import (
	"fmt"

	"github.com/golangci/plugin-module-register/register"
	"github.com/modkit/modkit/analyzer"
	"golang.org/x/tools/go/analysis"
)

func init() {
	register.Plugin("modreplace", New)
}

// Settings configures the plugin; the fields mean what the analyzer's
// flags of the same names mean (see [analyzer.Config]).
type Settings struct {
	// Enable lists check IDs to run besides the default ones ("all" for
	// every check).
	Enable []string `json:"enable"`
	// Disable lists check IDs not to run.
	Disable []string `json:"disable"`
	// Allow lists trusted fork and mirror module path patterns (GOPRIVATE
	// syntax).
	Allow []string `json:"allow"`
}

// New returns the plugin configured by settings, the "settings" value of
// the linter's entry in .golangci.yml (nil for none). Unknown fields and
// unknown check IDs are errors.
func New(settings any) (register.LinterPlugin, error) {
	var s Settings
	if settings != nil {
		var err error
		s, err = register.DecodeSettings[Settings](settings)
		if err != nil {
			return nil, fmt.Errorf("modreplace settings: %w", err)
		}
	}
	cfg := analyzer.Config{Enable: s.Enable, Disable: s.Disable, Allow: s.Allow}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("modreplace settings: %w", err)
	}
	return &plugin{cfg: cfg}, nil
}

type plugin struct{ cfg analyzer.Config }

// BuildAnalyzers returns a fresh modreplace analyzer with the settings.
func (p *plugin) BuildAnalyzers() ([]*analysis.Analyzer, error) {
	return []*analysis.Analyzer{analyzer.New(p.cfg)}, nil
}

// GetLoadMode asks for syntax only: the analyzer reads go.mod, not types.
func (p *plugin) GetLoadMode() string { return register.LoadModeSyntax }
