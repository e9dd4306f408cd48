package modnettest

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// A Request is one entry of a server's request log.
type Request struct {
	// Server is the Name of the server that received the request.
	Server string
	// Time is when the request arrived.
	Time time.Time
	// Method is GET or HEAD, or whatever the client sent.
	Method string
	// Path is the URL path as received, still case-escaped, for example
	// "/example.com/!upper/@v/v1.0.0.zip".
	Path string
	// Kind, Module and Version say what Path asks for; Kind is empty for a
	// path outside the protocol. Module and Version are unescaped; checksum
	// database lookups set them too.
	Kind    FileKind
	Module  string
	Version string
	// Range is the Range header, if any.
	Range string
	// Header is a copy of the request headers (Authorization included, so a
	// test can check which credentials reached the server).
	Header http.Header
	// N counts the earlier requests for the same Path since the faults were
	// last set; fault decisions depend on it.
	N int
	// Fault is the fault the server applied (Kind NoFault if none).
	Fault Fault
	// Status is the status code sent, or 0 if the server sent no headers
	// (a reset, or a stall the client or the server gave up on). A body cut
	// or stalled after its headers keeps the status of those headers.
	Status int
	// Bytes counts the body bytes sent.
	Bytes int64
	// Done reports whether the server had finished with the request when the
	// log was read.
	Done bool
}

// String formats the entry for test failure messages, for example
// "proxyA GET /example.com/m/@v/list 200 12B" or
// "proxyA GET /example.com/m/@v/v1.0.0.zip reset".
func (r Request) String() string {
	s := r.Method + " " + r.Path
	if r.Server != "" {
		s = r.Server + " " + s
	}
	if r.Range != "" {
		s += " Range:" + r.Range
	}
	switch r.Fault.Kind {
	case NoFault:
	case FaultStatus:
	default:
		s += " " + string(r.Fault.Kind)
	}
	if r.Status != 0 {
		s += fmt.Sprintf(" %d %dB", r.Status, r.Bytes)
	}
	if !r.Done {
		s += " (in progress)"
	}
	return s
}

// A Log is a request log, in order of arrival.
type Log []Request

// String formats the log one request per line, for test failure messages.
func (l Log) String() string {
	var b strings.Builder
	for _, r := range l {
		b.WriteString(r.String())
		b.WriteByte('\n')
	}
	return b.String()
}
