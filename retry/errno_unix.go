//go:build !windows && !plan9

package retry

import (
	"errors"
	"syscall"
)

// classifyErrno maps the socket errnos of Unix-like systems (and of the
// js/wasm and wasip1 emulations, which share their names) to classes.
func classifyErrno(err error) (Class, bool) {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return Unknown, false
	}
	switch errno {
	case syscall.ECONNREFUSED:
		return Refused, true
	case syscall.ECONNRESET, syscall.ECONNABORTED, syscall.ENETRESET, syscall.EPIPE, syscall.ENOTCONN:
		return Reset, true
	case syscall.ENETUNREACH, syscall.EHOSTUNREACH, syscall.ENETDOWN:
		return Unreachable, true
	case syscall.ETIMEDOUT:
		return Timeout, true
	}
	return Unknown, false
}
