package modnet

import (
	"net/http"
	"net/url"

	"golang.org/x/net/http/httpproxy"
)

// ProxyConfig returns the HTTP proxy settings in the Env's environment
// (HTTP_PROXY, HTTPS_PROXY, NO_PROXY, upper case before lower case), the
// ones the go command's HTTP client follows through
// net/http.ProxyFromEnvironment. Unlike that function, which reads the
// process environment once, it reads the Env, so an Env loaded with
// [LoadEnvFrom] gets the proxies it names.
func (e *Env) ProxyConfig() *httpproxy.Config {
	get := func(names ...string) string {
		for _, n := range names {
			if v := e.OS(n); v != "" {
				return v
			}
		}
		return ""
	}
	return &httpproxy.Config{
		HTTPProxy:  get("HTTP_PROXY", "http_proxy"),
		HTTPSProxy: get("HTTPS_PROXY", "https_proxy"),
		NoProxy:    get("NO_PROXY", "no_proxy"),
		CGI:        e.OS("REQUEST_METHOD") != "",
	}
}

// proxyFunc is ProxyConfig as an http.Transport.Proxy function.
func (e *Env) proxyFunc() func(*http.Request) (*url.URL, error) {
	fn := e.ProxyConfig().ProxyFunc()
	return func(req *http.Request) (*url.URL, error) { return fn(req.URL) }
}
