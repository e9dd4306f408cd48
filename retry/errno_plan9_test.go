//go:build plan9

package retry

import "errors"

var errnoCases = []struct {
	name string
	err  error
	want Class
}{
	{"refused", errors.New("connection refused"), Refused},
	{"reset", errors.New("connection reset by peer"), Reset},
	{"hungup", errors.New("i/o on hungup channel"), Reset},
	{"unreachable", errors.New("no route to host"), Unreachable},
}
