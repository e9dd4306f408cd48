//go:build windows

package retry

import (
	"errors"
	"syscall"
)

// Winsock reports socket failures as WSAE* codes, which package syscall
// does not map to its portable ECONN* values, so they are listed by number
// (see winerror.h).
const (
	errorNetnameDeleted    syscall.Errno = 64 // ERROR_NETNAME_DELETED: the peer closed the connection
	errorBrokenPipe        syscall.Errno = 109
	errorConnectionRefused syscall.Errno = 1225
	errorConnectionAborted syscall.Errno = 1236
	wsaENETDOWN            syscall.Errno = 10050
	wsaENETUNREACH         syscall.Errno = 10051
	wsaENETRESET           syscall.Errno = 10052
	wsaECONNABORTED        syscall.Errno = 10053
	wsaECONNRESET          syscall.Errno = 10054
	wsaENOTCONN            syscall.Errno = 10057
	wsaESHUTDOWN           syscall.Errno = 10058
	wsaETIMEDOUT           syscall.Errno = 10060
	wsaECONNREFUSED        syscall.Errno = 10061
	wsaEHOSTDOWN           syscall.Errno = 10064
	wsaEHOSTUNREACH        syscall.Errno = 10065
)

func classifyErrno(err error) (Class, bool) {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return Unknown, false
	}
	switch errno {
	// The portable names are listed too, although Windows itself does
	// not produce them, in case a Transport reports them.
	case wsaECONNREFUSED, errorConnectionRefused, syscall.ECONNREFUSED:
		return Refused, true
	case wsaECONNRESET, wsaECONNABORTED, wsaENETRESET, wsaENOTCONN, wsaESHUTDOWN,
		errorNetnameDeleted, errorConnectionAborted, errorBrokenPipe,
		syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE, syscall.ENOTCONN:
		return Reset, true
	case wsaENETUNREACH, wsaEHOSTUNREACH, wsaENETDOWN, wsaEHOSTDOWN, syscall.ENETUNREACH, syscall.EHOSTUNREACH:
		return Unreachable, true
	case wsaETIMEDOUT, syscall.ETIMEDOUT:
		return Timeout, true
	}
	return Unknown, false
}
