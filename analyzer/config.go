package analyzer

import (
	"flag"
	"fmt"
	"go/token"
	"slices"
	"strings"
)

// Check IDs. Each is the Category of the diagnostics its check reports and
// the name used to enable or disable it.
const (
	LocalEscape   = "local-escape"
	LocalMismatch = "local-mismatch"
	Placeholder   = "placeholder"
	Downgrade     = "downgrade"
	Inert         = "inert"
	Unused        = "unused"
	Fork          = "fork"
	Wildcard      = "wildcard"
	PseudoVersion = "pseudo-version"
	Duplicate     = "duplicate"
	Noop          = "noop"
	GoworkShadow  = "gowork-shadow"
	Undocumented  = "undocumented"
	Retracted     = "retracted"
	Library       = "library"
)

// A CheckInfo describes one check.
type CheckInfo struct {
	ID      string // the check's ID, also its diagnostics' Category
	Default bool   // whether the check runs unless disabled
	Doc     string // one sentence: what the check reports
}

var checkList = []CheckInfo{
	{LocalEscape, true, "a local replacement directory that is absolute, outside the repository (VCS root) holding go.mod, or missing"},
	{LocalMismatch, true, "a local replacement directory without a go.mod, or whose go.mod declares a different module path (the go command does not check this)"},
	{Placeholder, true, "a requirement in the module graph on a version that was never published (the placeholder v0.0.0-00010101000000-000000000000, or a sibling module's unpublished version) that no replace of this module covers, so go list -m all and every build fail"},
	{Downgrade, true, "a replacement of a module by a lower version of itself than the one the module graph requires"},
	{Inert, true, "a replace of a module version that is not in the module graph, while other versions of the module are: it never applies"},
	{Unused, true, "a replace of a module that is not in the module graph at all: it has no effect"},
	{Fork, true, "a replacement of the selected version by a different module path (a fork or mirror), which scanners keyed on the old path miss; trusted paths can be allowed"},
	{Wildcard, true, "a replace of every version of a module by a remote module, which also captures upgrades and hides retractions (fix: pin the required version)"},
	{PseudoVersion, true, "a replacement of a version in the module graph by a pseudo-version, an untagged commit that may vanish"},
	{Duplicate, true, "the same module replaced twice, overlapping version-less and versioned replaces, or a chain A => B, B => C (replacements do not chain)"},
	{Noop, true, "a replace of a module version by exactly itself (fix: remove it)"},
	{GoworkShadow, true, "a replace that a go.work above the module overrides with something else (another directory, or a directory against a version), so workspace builds differ from CI"},
	{Undocumented, false, "a replace with no comment saying why it exists"},
	{Retracted, false, "a replacement version its authors retracted, or a deprecated replacement module (asks the module proxy)"},
	{Library, false, "any replace in a module without a main package: the go command ignores it when the module is a dependency"},
}

// Checks returns the checks the analyzer knows, in the order their
// diagnostics are reported within a line.
func Checks() []CheckInfo { return slices.Clone(checkList) }

func checkIndex(id string) int {
	return slices.IndexFunc(checkList, func(c CheckInfo) bool { return c.ID == id })
}

// Config configures an analyzer made by [New]. The zero Config runs the
// default checks and reports every fork.
type Config struct {
	// Enable lists IDs of checks to run besides the default ones; "all"
	// enables every check.
	Enable []string
	// Disable lists IDs of checks not to run; "all" disables every check
	// not named in Enable. Disable wins over Enable for the same ID.
	Disable []string
	// Allow lists module path patterns of trusted forks and mirrors that
	// the fork check accepts as replacements. The syntax is GOPRIVATE's:
	// comma-separated glob patterns (path.Match) matching a path prefix,
	// such as "github.com/myorg/*,example.com/mirror".
	Allow []string
	// Source answers the retracted check. Nil means a new [ModnetSource]
	// with default fields: one per analyzer made by [New], one per call
	// of [CheckModFile].
	Source ModuleInfoSource
	// GoMods provides the go.mod files of module versions for the module
	// graph: from the module cache, and through the network only when
	// the retracted check is enabled. Nil means Source, if it is a
	// GoModSource (a ModnetSource is), else a new ModnetSource.
	GoMods GoModSource
	// OnNote receives what the checks could not decide, such as whether
	// a replace is unused when the module cache lacks go.mod files of the
	// graph. Notes are not findings and never fail a build. Nil means
	// each is written to standard error as "file:line:col: note: message".
	OnNote func(Note)
}

// A Note says what a check could not decide, and why.
type Note struct {
	Pos      token.Pos // in the go.mod, in the FileSet of the diagnostics
	Category string    // the check that could not decide
	Message  string    // starts with "[Category] ", like a diagnostic's
}

// goMods returns the GoModSource of the module graph.
func (c *Config) goMods() GoModSource {
	if c.GoMods != nil {
		return c.GoMods
	}
	if g, ok := c.Source.(GoModSource); ok {
		return g
	}
	return &ModnetSource{}
}

// Validate reports an unknown check ID in Enable or Disable.
func (c *Config) Validate() error {
	_, err := c.enabled()
	return err
}

// enabled resolves Enable and Disable into the set of checks to run.
func (c *Config) enabled() (map[string]bool, error) {
	on := make(map[string]bool)
	for _, ci := range checkList {
		on[ci.ID] = ci.Default
	}
	set := func(ids []string, v bool, explicit map[string]bool) error {
		for _, id := range ids {
			if err := validCheckID(id); err != nil {
				return err
			}
			if id == "all" {
				for _, ci := range checkList {
					if !explicit[ci.ID] {
						on[ci.ID] = v
					}
				}
				continue
			}
			on[id] = v
		}
		return nil
	}
	explicitEnable := make(map[string]bool)
	for _, id := range c.Enable {
		explicitEnable[id] = true
	}
	if err := set(c.Enable, true, nil); err != nil {
		return nil, err
	}
	// "all" in Disable leaves the explicitly enabled checks on; naming a
	// check in both lists turns it off.
	if err := set(c.Disable, false, explicitEnable); err != nil {
		return nil, err
	}
	return on, nil
}

func checkIDs() []string {
	ids := make([]string, len(checkList))
	for i, c := range checkList {
		ids[i] = c.ID
	}
	return ids
}

// RegisterFlags defines the -enable, -disable and -allow flags in fs,
// adding to c's lists.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.Var(listFlag{&c.Enable, validCheckID}, "enable",
		"comma-separated `checks` to run besides the default ones (\"all\" for every check)")
	fs.Var(listFlag{&c.Disable, validCheckID}, "disable",
		"comma-separated `checks` not to run (\"all\" for every check not enabled by -enable)")
	fs.Var(listFlag{list: &c.Allow}, "allow",
		"comma-separated module path `patterns` (GOPRIVATE syntax) of trusted forks and mirrors the fork check accepts")
}

// listFlag is a flag.Value for a comma-separated list; repeating the flag
// appends.
type listFlag struct {
	list  *[]string
	valid func(string) error
}

func (f listFlag) String() string {
	if f.list == nil {
		return ""
	}
	return strings.Join(*f.list, ",")
}

func (f listFlag) Set(s string) error {
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if f.valid != nil {
			if err := f.valid(item); err != nil {
				return err
			}
		}
		*f.list = append(*f.list, item)
	}
	return nil
}

func validCheckID(id string) error {
	if id == "all" || checkIndex(id) >= 0 {
		return nil
	}
	return fmt.Errorf("unknown check %q (known: %s)", id, strings.Join(checkIDs(), ", "))
}
