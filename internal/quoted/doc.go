// Package quoted splits command lines the way the go command does
// (cmd/internal/quoted): words separated by spaces, tabs and newlines,
// each optionally wrapped in single or double quotes, with no escapes.
// GOFLAGS and GOAUTH commands are split with it. It is not a shell
// parser: no variables, no escapes, no globs.
package quoted
