//go:build !windows && !plan9

package retry

import (
	"os"
	"syscall"
)

// errnoCases are the socket errors of this system; the first is "refused"
// and the second "reset".
var errnoCases = []struct {
	name string
	err  error
	want Class
}{
	{"refused", os.NewSyscallError("connect", syscall.ECONNREFUSED), Refused},
	{"reset", os.NewSyscallError("read", syscall.ECONNRESET), Reset},
	{"broken pipe", os.NewSyscallError("write", syscall.EPIPE), Reset},
	{"not connected", os.NewSyscallError("read", syscall.ENOTCONN), Reset},
	{"aborted", os.NewSyscallError("read", syscall.ECONNABORTED), Reset},
	{"host unreachable", os.NewSyscallError("connect", syscall.EHOSTUNREACH), Unreachable},
	{"net unreachable", os.NewSyscallError("connect", syscall.ENETUNREACH), Unreachable},
	{"etimedout", os.NewSyscallError("read", syscall.ETIMEDOUT), Timeout},
}
