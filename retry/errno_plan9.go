//go:build plan9

package retry

// Plan 9 reports network failures as strings, not errnos; the string rules
// in Classify and the *net.OpError fallback cover them.
func classifyErrno(error) (Class, bool) { return Unknown, false }
