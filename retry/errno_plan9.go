//go:build plan9

package retry

import "strings"

// Plan 9 reports network failures as strings from the network device, not
// as errnos, so here the message is all there is to go on.
func classifyErrno(err error) (Class, bool) {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "connection refused"):
		return Refused, true
	case strings.Contains(msg, "connection reset"), strings.Contains(msg, "hungup"):
		return Reset, true
	case strings.Contains(msg, "no route"), strings.Contains(msg, "unreachable"):
		return Unreachable, true
	}
	return Unknown, false
}
