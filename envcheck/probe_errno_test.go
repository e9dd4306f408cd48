//go:build !plan9

package envcheck

import (
	"context"
	"net"
	"os"
	"syscall"
	"testing"
)

// dialErr is a dialer that fails every connection with err.
func dialErr(err error) func(context.Context, string, string) (net.Conn, error) {
	return func(_ context.Context, network, addr string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", err)}
	}
}

// TestProbeTCPErrno covers the socket errors a dialer reports.
func TestProbeTCPErrno(t *testing.T) {
	runLive(t, "tcp.connect", []liveCase{
		{name: "socket is not connected", vars: func(n *netFixture) map[string]string {
			n.AddHost("proxy.example.test", "127.0.0.1")
			return vars("GOPROXY", "https://proxy.example.test")
		}, tweak: func(n *netFixture, o *Options) { o.DialContext = dialErr(syscall.ENOTCONN) },
			status: StatusError, summary: `("socket is not connected", reset by peer, EOF before an answer) [reset]`, fix: "set HTTPS_PROXY",
			details: "not connected"}, // "socket is not connected" on BSDs, "transport endpoint is not connected" on Linux
		{name: "unreachable", vars: func(n *netFixture) map[string]string {
			n.AddHost("proxy.example.test", "127.0.0.1")
			return vars("GOPROXY", "https://proxy.example.test")
		}, tweak: func(n *netFixture, o *Options) { o.DialContext = dialErr(syscall.EHOSTUNREACH) },
			status: StatusError, summary: "network or host unreachable: no route [unreachable]", fix: "VPN"},
	})
}
