package envcheck

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/modkit/modkit/internal/web"
	"github.com/modkit/modkit/modnet"
)

// proxyVars are the variables net/http reads through
// httpproxy.FromEnvironment, upper case first.
var proxyVars = [][2]string{{"HTTP_PROXY", "http_proxy"}, {"HTTPS_PROXY", "https_proxy"}, {"NO_PROXY", "no_proxy"}}

// getEnvAny returns the first non-empty of the names, as httpproxy does.
func getEnvAny(env *modnet.Env, names ...string) (name, value string) {
	for _, n := range names {
		if v := env.OS(n); v != "" {
			return n, v
		}
	}
	return names[0], ""
}

// envProxyFunc chooses proxies the way the go command's HTTP client does
// (net/http.ProxyFromEnvironment), but from env's variables and afresh for
// each Run instead of from net/http's once-per-process cache.
func envProxyFunc(env *modnet.Env) func(*http.Request) (*url.URL, error) {
	fn := env.ProxyConfig().ProxyFunc()
	return func(req *http.Request) (*url.URL, error) { return fn(req.URL) }
}

// checkProxyVars checks the proxy variables as the go command reads them:
// only HTTP_PROXY, HTTPS_PROXY and NO_PROXY (either case, upper case
// winning), never ALL_PROXY.
func checkProxyVars(ctx context.Context, r *runner) Result {
	var f findings
	anySet := false
	for _, pair := range append(proxyVars, [2]string{"ALL_PROXY", "all_proxy"}) {
		up, low := r.env.OS(pair[0]), r.env.OS(pair[1])
		if up != "" || low != "" {
			anySet = true
		}
		if up != "" {
			f.note("%s=%s", pair[0], web.RedactList(up))
		}
		if low != "" {
			f.note("%s=%s", pair[1], web.RedactList(low))
		}
		if up != "" && low != "" && up != low {
			f.add(StatusWarn, unsetFix(modnet.Value{Name: pair[1], Layer: modnet.LayerOS})+"  # after making "+pair[0]+" the value you want",
				"%s and %s differ: Go uses %s=%s, while curl and git prefer the lower-case %s=%s",
				pair[0], pair[1], pair[0], web.RedactList(up), pair[1], web.RedactList(low))
		}
	}
	if !anySet {
		return Result{Status: StatusOK, Summary: "no proxy variables set: connections are direct"}
	}
	hName, httpP := getEnvAny(r.env, "HTTP_PROXY", "http_proxy")
	_, httpsP := getEnvAny(r.env, "HTTPS_PROXY", "https_proxy")
	allName, allP := getEnvAny(r.env, "ALL_PROXY", "all_proxy")

	if httpP == "" && httpsP == "" && allP != "" {
		f.add(StatusWarn, exportLine("HTTPS_PROXY", allP),
			"only %s is set: the go command ignores it and connects directly", allName)
	}
	if httpP != "" && httpsP == "" {
		f.add(StatusWarn, exportLine("HTTPS_PROXY", httpP),
			"%s is set but HTTPS_PROXY is not: HTTP_PROXY only applies to http:// URLs, so requests to https:// proxies and the checksum database go direct", hName)
	}
	for _, pair := range proxyVars[:2] {
		name, val := getEnvAny(r.env, pair[0], pair[1])
		if val == "" {
			continue
		}
		if err := checkProxyURL(val); err != nil {
			f.add(StatusError, exportLine(name, "http://proxy.example.com:3128"), "%s=%s: %v; every request through it fails", name, web.Redact(val), err)
		}
	}
	if r.env.OS("REQUEST_METHOD") != "" && httpP != "" {
		f.add(StatusInfo, "", "REQUEST_METHOD is set, so Go treats this as a CGI process and ignores HTTP_PROXY (httpoxy protection)")
	}

	// Private hosts reached through the proxy: a corporate proxy often
	// cannot (or must not) reach internal servers.
	cfg := r.env.ProxyConfig()
	fn := cfg.ProxyFunc()
	var through []string
	for _, h := range privateHosts(r.env) {
		test := h
		if strings.HasPrefix(h, ".") {
			test = "x" + h // a subdomain, as NO_PROXY's ".domain" form means
		}
		if p, err := fn(&url.URL{Scheme: "https", Host: test}); err == nil && p != nil {
			through = append(through, h)
		}
	}
	if len(through) > 0 {
		no := cfg.NoProxy
		for _, h := range through {
			no = appendList(no, h)
		}
		noName, _ := getEnvAny(r.env, "NO_PROXY", "no_proxy")
		f.add(StatusWarn, exportLine(noName, no),
			"private hosts go through the proxy because NO_PROXY does not list them: %s; if the proxy cannot reach internal servers, direct fetches of private modules fail",
			strings.Join(through, ", "))
	}
	return f.result("proxy variables are consistent")
}

// checkProxyURL parses a proxy setting as httpproxy does: a value without
// a scheme means http://.
func checkProxyURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		u, err = url.Parse("http://" + s)
	}
	if err != nil {
		return fmt.Errorf("invalid proxy address: %v", err)
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
	default:
		return fmt.Errorf("unsupported proxy scheme %q (Go supports http, https, socks5)", u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("proxy address has no host")
	}
	return nil
}

func appendList(list, item string) string {
	if list == "" {
		return item
	}
	return list + "," + item
}

// patternHosts returns the literal hosts of GONOPROXY patterns: private
// modules fetched direct. "*.example.com" is written ".example.com", as
// NO_PROXY writes "every subdomain".
func patternHosts(env *modnet.Env) []string {
	var hosts []string
	seen := map[string]bool{}
	for _, p := range splitPatterns(env.Get("GONOPROXY")) {
		host, _, _ := strings.Cut(strings.TrimSpace(p), "/")
		if strings.HasPrefix(host, "*.") {
			host = host[1:]
		}
		if !strings.ContainsAny(host, "*?[\\") && strings.Contains(host, ".") && !seen[host] {
			seen[host] = true
			hosts = append(hosts, host)
		}
	}
	return hosts
}

// privateHosts returns patternHosts and the GOPROXY hosts that look
// private: hosts a corporate HTTPS proxy may be unable to reach.
func privateHosts(env *modnet.Env) []string {
	hosts := patternHosts(env)
	if list, err := env.ProxyList(); err == nil {
		for _, s := range list {
			if u, err := url.Parse(s.URL); err == nil && s.Kind == modnet.KindProxy && u.Host != "" &&
				hostKind(u.Hostname()) == "private" && !isLoopbackHost(u.Hostname()) && !slices.Contains(hosts, u.Host) {
				hosts = append(hosts, u.Host)
			}
		}
	}
	return hosts
}
