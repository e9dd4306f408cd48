// Package golangci registers the modreplace analyzer of
// [github.com/modkit/modkit/analyzer] as a golangci-lint v2 module plugin
// named "modreplace". It adds no checks of its own: it runs the
// analyzer's, configured from .golangci.yml.
//
// golangci-lint builds module plugins into a custom binary with
// "golangci-lint custom", driven by a .custom-gcl.yml:
//
//	version: v2.15.0
//	plugins:
//	  - module: github.com/modkit/modkit
//	    import: github.com/modkit/modkit/analyzer/golangci
//	    version: latest # better pinned; or path: a local checkout
//
// and enabled in .golangci.yml, where "settings" are decoded into
// [Settings]:
//
//	version: "2"
//	linters:
//	  enable:
//	    - modreplace
//	  settings:
//	    custom:
//	      modreplace:
//	        type: module
//	        description: risky replace directives in go.mod
//	        settings:
//	          allow: ["github.com/myorg/*"]
//	          enable: [undocumented]
//	          disable: [pseudo-version]
//	issues:
//	  uniq-by-line: false
//
// Then "./custom-gcl run ./..." reports modreplace's findings at their
// go.mod lines, once per module (see the analyzer's package documentation
// for which package reports them). The analyzer's README has the recipe
// without "custom" (for CI that cannot clone from golangci-lint's code
// host) and what golangci-lint's cache does and does not see.
package golangci
