// Package gcl is the module golangci-lint checks.
package gcl
