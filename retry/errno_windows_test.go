//go:build windows

package retry

import "os"

var errnoCases = []struct {
	name string
	err  error
	want Class
}{
	{"refused", os.NewSyscallError("connectex", wsaECONNREFUSED), Refused},
	{"reset", os.NewSyscallError("wsarecv", wsaECONNRESET), Reset},
	{"aborted", os.NewSyscallError("wsarecv", wsaECONNABORTED), Reset},
	{"netname deleted", os.NewSyscallError("wsarecv", errorNetnameDeleted), Reset},
	{"not connected", os.NewSyscallError("wsasend", wsaENOTCONN), Reset},
	{"host unreachable", os.NewSyscallError("connectex", wsaEHOSTUNREACH), Unreachable},
	{"net unreachable", os.NewSyscallError("connectex", wsaENETUNREACH), Unreachable},
	{"timed out", os.NewSyscallError("connectex", wsaETIMEDOUT), Timeout},
}
