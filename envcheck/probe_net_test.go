package envcheck

import (
	"context"
	"net"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modkit/modkit/internal/testenv"
)

func TestProbeDNS(t *testing.T) {
	runLive(t, "dns.resolve", []liveCase{
		{name: "resolves", vars: func(n *netFixture) map[string]string {
			return vars("GOPROXY", n.Serve("proxy.example.test", nil, moduleProxy(nil))+",direct", "GOPRIVATE", "git.corp.example.test")
		}, tweak: func(n *netFixture, o *Options) { n.AddHost("git.corp.example.test", "127.0.0.2", "::1") },
			status: StatusOK, summary: "2 host names resolve", fix: "-", details: "git.corp.example.test → 127.0.0.2, ::1"},
		{name: "nxdomain", vars: func(n *netFixture) map[string]string { return vars("GOPROXY", "https://typo.example.test") },
			status: StatusError, summary: "typo.example.test:443 (GOPROXY entry https://typo.example.test): host name not found (NXDOMAIN) [dns-notfound]",
			fix: "internal names need the VPN"},
		{name: "resolver never answers", vars: func(n *netFixture) map[string]string { return vars("GOPROXY", "https://slow.example.test") },
			tweak:  func(n *netFixture, o *Options) { o.CheckTimeout = 300 * time.Millisecond },
			status: StatusError, summary: "DNS lookup failed: the resolver did not answer [dns-temporary]", fix: "resolv.conf"},
		{name: "sinkholed", vars: func(n *netFixture) map[string]string {
			n.AddHost("blocked.example.test", "0.0.0.0")
			return vars("GOPROXY", "https://blocked.example.test")
		}, status: StatusError, summary: "blocked.example.test resolves to 0.0.0.0: a DNS filter blocks it"},
		{name: "only the proxy is resolved", vars: func(n *netFixture) map[string]string {
			n.AddHost("squid.example.test", "127.0.0.1")
			return vars("GOPROXY", "https://proxy.example.test", "HTTPS_PROXY", "http://squid.example.test:3128")
		}, status: StatusOK, summary: "1 host name resolves", details: "squid.example.test → 127.0.0.1",
			check: func(t *testing.T, n *netFixture, res Result) {
				if slices.Contains(n.Lookups(), "proxy.example.test") {
					t.Errorf("resolved proxy.example.test although the HTTPS proxy resolves it: lookups %q", n.Lookups())
				}
			}},
		{name: "checksum database direct", vars: func(n *netFixture) map[string]string { return vars("GOPROXY", "direct") },
			status: StatusError, summary: "sum.golang.org:443 (checksum database https://sum.golang.org)"},
		{name: "nothing to resolve", vars: func(n *netFixture) map[string]string { return vars("GOPROXY", "off", "GOSUMDB", "off") }, status: StatusSkip},
	})
}

func TestProbeTCP(t *testing.T) {
	runLive(t, "tcp.connect", []liveCase{
		{name: "connects", vars: func(n *netFixture) map[string]string {
			return vars("GOPROXY", n.Serve("proxy.example.test", nil, moduleProxy(nil)))
		}, status: StatusOK, summary: "1 connection succeeds", details: "connected (dns"},
		{name: "refused", vars: func(n *netFixture) map[string]string {
			n.AddHost("closed.example.test", "127.0.0.1")
			return vars("GOPROXY", "https://closed.example.test:"+portOf(n.t, closedPort(n.t)))
		}, status: StatusError, summary: "[refused]"},
		{name: "name does not resolve", vars: func(n *netFixture) map[string]string { return vars("GOPROXY", "https://typo.example.test") },
			status: StatusInfo, summary: "typo.example.test:443 (GOPROXY entry https://typo.example.test): not tried, the name does not resolve (see dns.resolve)"},
		{name: "dial never completes", vars: func(n *netFixture) map[string]string {
			n.AddHost("proxy.example.test", "127.0.0.1")
			return vars("GOPROXY", "https://proxy.example.test")
		}, tweak: func(n *netFixture, o *Options) {
			o.CheckTimeout = 300 * time.Millisecond
			o.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				<-ctx.Done()
				return nil, &net.OpError{Op: "dial", Net: network, Err: ctx.Err()}
			}
		}, status: StatusError, summary: "no answer in time [timeout]"},
		{name: "proxy refused", vars: func(n *netFixture) map[string]string {
			return vars("GOPROXY", "https://proxy.example.test", "HTTPS_PROXY", "http://"+closedPort(n.t))
		}, status: StatusError, summary: "proxy http://127.0.0.1:", fix: "the proxy in HTTPS_PROXY/HTTP_PROXY does not accept connections"},
	})
}

func TestProbeTLS(t *testing.T) {
	linuxFix := ""
	if runtime.GOOS == "linux" {
		linuxFix = "export SSL_CERT_FILE="
	}
	runLive(t, "tls.verify", []liveCase{
		{name: "verifies", vars: func(n *netFixture) map[string]string {
			return vars("GOPROXY", n.Serve("proxy.example.test", nil, moduleProxy(nil)))
		}, status: StatusOK, summary: "1 certificate verifies", fix: "-", details: `issued by "modkit test CA" (modkit tests), valid until`},
		{name: "intercepted, untrusted", vars: func(n *netFixture) map[string]string {
			corp := testenv.NewCA(n.t, "Corp Inspection CA", "Corp")
			return vars("GOPROXY", n.Serve("proxy.example.test", corp, moduleProxy(nil)))
		}, status: StatusError, summary: `GOPROXY entry proxy.example.test:`, fix: linuxFix,
			details: "certificate signed by unknown authority",
			check: func(t *testing.T, n *netFixture, res Result) {
				if !strings.Contains(res.Summary, `certificate signed by "Corp Inspection CA" (Corp), which this machine does not trust: probably a TLS-intercepting proxy [tls]`) {
					t.Errorf("summary %q does not name the intercepting CA", res.Summary)
				}
			}},
		{name: "intercepted, trusted", vars: func(n *netFixture) map[string]string {
			z := testenv.NewCA(n.t, "Zscaler Root CA", "Zscaler Inc.")
			n.CA.Pool.AddCert(z.Cert)
			return vars("GOPROXY", n.Serve("proxy.example.test", z, moduleProxy(nil)))
		}, status: StatusInfo, summary: `traffic is inspected by Zscaler (certificate issued by "Zscaler Root CA" (Zscaler Inc.))`},
		{name: "wrong name", vars: func(n *netFixture) map[string]string {
			u := n.Serve("proxy.example.test", nil, moduleProxy(nil))
			n.AddHost("alias.example.test", "127.0.0.1")
			return vars("GOPROXY", strings.Replace(u, "proxy.example.test", "alias.example.test", 1))
		}, status: StatusError, summary: "certificate is not valid for this host name"},
		{name: "clock far ahead", vars: func(n *netFixture) map[string]string {
			return vars("GOPROXY", n.Serve("proxy.example.test", nil, moduleProxy(nil)))
		}, tweak: func(n *netFixture, o *Options) {
			o.Now = func() time.Time { return time.Now().Add(30 * 24 * time.Hour) }
		},
			status: StatusError, summary: "certificate has expired or is not yet valid", fix: "check this machine's clock"},
		{name: "plain http on https", vars: func(n *netFixture) map[string]string {
			u := n.ServePlain("proxy.example.test", moduleProxy(nil))
			return vars("GOPROXY", strings.Replace(u, "http://", "https://", 1))
		}, status: StatusError, summary: "[tls]", fix: "check that the URL's scheme is right"},
		{name: "through CONNECT proxy", vars: func(n *netFixture) map[string]string {
			return vars("GOPROXY", n.Serve("proxy.example.test", nil, moduleProxy(nil)), "HTTPS_PROXY", n.NewProxy(0, ""))
		}, status: StatusOK, details: "through proxy http://127.0.0.1:"},
		{name: "never answers", vars: func(n *netFixture) map[string]string {
			n.AddHost("hole.example.test", "127.0.0.1")
			return vars("GOPROXY", "https://hole.example.test:"+portOf(n.t, blackHole(n.t)))
		}, tweak: func(n *netFixture, o *Options) { o.CheckTimeout = 300 * time.Millisecond },
			status: StatusError, summary: "[timeout]"},
		{name: "cannot connect", vars: func(n *netFixture) map[string]string {
			n.AddHost("closed.example.test", "127.0.0.1")
			return vars("GOPROXY", "https://closed.example.test:"+portOf(n.t, closedPort(n.t)))
		}, status: StatusInfo, summary: "not verified, cannot connect: connection refused: nothing listens on that host and port (see tcp.connect)"},
		{name: "proxy refuses the tunnel", vars: func(n *netFixture) map[string]string {
			return vars("GOPROXY", "https://proxy.example.test", "HTTPS_PROXY", n.NewProxy(403, ""))
		}, status: StatusInfo, summary: "not verified, cannot connect", details: "answered CONNECT proxy.example.test:443 with 403 Forbidden"},
		{name: "no https", vars: func(n *netFixture) map[string]string {
			return vars("GOPROXY", "http://a.example.test", "GOSUMDB", "off")
		}, status: StatusSkip},
	})
}

func TestProbeProxyEnv(t *testing.T) {
	runLive(t, "proxyenv.reach", []liveCase{
		{name: "no proxy", vars: func(n *netFixture) map[string]string { return vars("GOPROXY", "https://proxy.example.test") },
			status: StatusSkip, summary: "no HTTP proxy in effect"},
		{name: "NO_PROXY covers", vars: func(n *netFixture) map[string]string {
			return vars("GOPROXY", "https://proxy.example.test", "HTTPS_PROXY", n.NewProxy(200, ""), "NO_PROXY", ".example.test")
		}, status: StatusSkip},
		{name: "tunnel", vars: func(n *netFixture) map[string]string {
			return vars("GOPROXY", "https://proxy.example.test,direct", "GOPRIVATE", "git.corp.example.test", "HTTPS_PROXY", n.NewProxy(200, ""))
		}, status: StatusOK, summary: "2 tunnels through the proxy succeed", details: "CONNECT git.corp.example.test:443 ok",
			check: func(t *testing.T, n *netFixture, res Result) {
				got := n.Requests()
				slices.Sort(got)
				want := []string{"CONNECT git.corp.example.test:443", "CONNECT proxy.example.test:443"}
				if !slices.Equal(got, want) {
					t.Errorf("proxy saw %q, want %q", got, want)
				}
			}},
		{name: "needs credentials", vars: func(n *netFixture) map[string]string {
			return vars("GOPROXY", "https://proxy.example.test", "HTTPS_PROXY", n.NewProxy(200, "me:pw"))
		}, status: StatusError, summary: "wants credentials for CONNECT proxy.example.test:443 (407 Proxy Authentication Required)",
			fix: "export HTTPS_PROXY=http://USER:PASSWORD@127.0.0.1:"},
		{name: "credentials sent", vars: func(n *netFixture) map[string]string {
			p := n.NewProxy(200, "me:pw")
			return vars("GOPROXY", "https://proxy.example.test", "HTTPS_PROXY", strings.Replace(p, "http://", "http://me:pw@", 1))
		}, status: StatusOK, details: "proxy http://xxxxx@127.0.0.1:",
			check: func(t *testing.T, n *netFixture, res Result) {
				if r := strings.Join(res.Details, " ") + res.Summary; strings.Contains(r, ":pw@") || strings.Contains(r, "me:") {
					t.Errorf("the proxy password leaked into the report: %q", res.Details)
				}
			}},
		{name: "forbidden", vars: func(n *netFixture) map[string]string {
			return vars("GOPROXY", "https://proxy.example.test", "HTTPS_PROXY", n.NewProxy(403, ""))
		}, status: StatusError, summary: "refuses CONNECT to proxy.example.test:443 (403 Forbidden): blocked by its policy"},
		{name: "bad gateway", vars: func(n *netFixture) map[string]string {
			return vars("GOPROXY", "https://proxy.example.test", "HTTPS_PROXY", n.NewProxy(502, ""))
		}, status: StatusError, summary: "failed CONNECT to proxy.example.test:443 (502 Bad Gateway)"},
		{name: "proxy down", vars: func(n *netFixture) map[string]string {
			return vars("GOPROXY", "https://proxy.example.test", "HTTPS_PROXY", "http://"+closedPort(n.t))
		}, status: StatusError, summary: "[refused]", fix: "check HTTPS_PROXY's host and port"},
		{name: "proxy silent", vars: func(n *netFixture) map[string]string {
			return vars("GOPROXY", "https://proxy.example.test", "HTTPS_PROXY", "http://"+blackHole(n.t))
		}, tweak: func(n *netFixture, o *Options) { o.CheckTimeout = 300 * time.Millisecond },
			status: StatusError, summary: "no answer in time", details: "timeout", fix: "that the proxy is running",
			check: func(t *testing.T, n *netFixture, res Result) {
				if !strings.HasSuffix(res.Summary, "[timeout]") {
					t.Errorf("summary %q is not a timeout", res.Summary)
				}
			}},
	})
}

func TestProbeClock(t *testing.T) {
	dated := func(n *netFixture) map[string]string {
		return vars("GOPROXY", n.Serve("proxy.example.test", nil, moduleProxy(nil)))
	}
	runLive(t, "tls.clock", []liveCase{
		{name: "in sync", vars: dated, status: StatusOK, summary: "the local clock agrees with proxy.example.test:"},
		{name: "two hours behind", vars: dated, tweak: func(n *netFixture, o *Options) { o.Now = func() time.Time { return time.Now().Add(-2 * time.Hour) } },
			status: StatusError, summary: "behind proxy.example.test:", fix: "timedatectl set-ntp true",
			check: func(t *testing.T, n *netFixture, res Result) {
				if !strings.Contains(res.Summary, "clock is 2h0m") && !strings.Contains(res.Summary, "clock is 1h59m5") {
					t.Errorf("summary %q does not say two hours", res.Summary)
				}
			}},
		{name: "five minutes ahead", vars: dated, tweak: func(n *netFixture, o *Options) { o.Now = func() time.Time { return time.Now().Add(5 * time.Minute) } },
			status: StatusWarn, summary: "ahead of proxy.example.test:",
			check: func(t *testing.T, n *netFixture, res Result) {
				if !strings.Contains(res.Summary, "clock is 5m") && !strings.Contains(res.Summary, "clock is 4m5") {
					t.Errorf("summary %q does not say five minutes", res.Summary)
				}
			}},
		{name: "works despite untrusted certificate", vars: func(n *netFixture) map[string]string {
			return vars("GOPROXY", n.Serve("proxy.example.test", testenv.NewCA(n.t, "Other", "Other"), moduleProxy(nil)))
		}, status: StatusOK},
		{name: "nobody answers", vars: func(n *netFixture) map[string]string { return vars("GOPROXY", "https://nowhere.example.test") },
			status: StatusInfo, summary: "no server answered with a Date header", details: "host name not found"},
		{name: "no endpoints", vars: func(n *netFixture) map[string]string { return vars("GOPROXY", "off", "GOSUMDB", "off") }, status: StatusSkip},
	})
}
