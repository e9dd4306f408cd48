package envcheck

import "testing"

func TestCheckProxyVars(t *testing.T) {
	runCases(t, "proxyenv.vars", []staticCase{
		{name: "none", status: StatusOK, summary: "no proxy variables set: connections are direct", fix: "-"},
		{name: "both", vars: map[string]string{"HTTP_PROXY": "http://proxy.example.com:3128", "HTTPS_PROXY": "http://proxy.example.com:3128"},
			status: StatusOK, summary: "proxy variables are consistent", details: "HTTPS_PROXY=http://proxy.example.com:3128"},
		{name: "http only", vars: map[string]string{"http_proxy": "http://proxy.example.com:3128"}, status: StatusWarn,
			summary: "http_proxy is set but HTTPS_PROXY is not: HTTP_PROXY only applies to http:// URLs",
			fix:     "export HTTPS_PROXY=http://proxy.example.com:3128"},
		{name: "all only", vars: map[string]string{"ALL_PROXY": "socks5://127.0.0.1:1080"}, status: StatusWarn,
			summary: "only ALL_PROXY is set: the go command ignores it and connects directly", fix: "export HTTPS_PROXY=socks5://127.0.0.1:1080"},
		{name: "case conflict", vars: map[string]string{"HTTPS_PROXY": "http://a.example.com:3128", "https_proxy": "http://b.example.com:3128"},
			status: StatusWarn, summary: "HTTPS_PROXY and https_proxy differ: Go uses HTTPS_PROXY=http://a.example.com:3128, while curl and git prefer the lower-case https_proxy=http://b.example.com:3128",
			fix: "unset https_proxy"},
		{name: "same in both cases", vars: map[string]string{"HTTPS_PROXY": "http://a.example.com:3128", "https_proxy": "http://a.example.com:3128"}, status: StatusOK},
		{name: "password redacted", vars: map[string]string{"HTTPS_PROXY": "http://me:secret@a.example.com:3128"}, status: StatusOK,
			details: "HTTPS_PROXY=http://xxxxx@a.example.com:3128"},
		{name: "bad scheme", vars: map[string]string{"HTTPS_PROXY": "ftp://a.example.com"}, status: StatusError,
			summary: `unsupported proxy scheme "ftp"`},
		{name: "no scheme means http", vars: map[string]string{"HTTPS_PROXY": "a.example.com:3128"}, status: StatusOK},
		{name: "private host through proxy", vars: map[string]string{"HTTPS_PROXY": "http://a.example.com:3128", "GOPRIVATE": "git.corp.example.com,*.internal.example.com"},
			status: StatusWarn, summary: "private hosts go through the proxy because NO_PROXY does not list them: git.corp.example.com, .internal.example.com",
			fix: "export NO_PROXY=git.corp.example.com,.internal.example.com"},
		{name: "private host in NO_PROXY", vars: map[string]string{"HTTPS_PROXY": "http://a.example.com:3128", "GOPRIVATE": "git.corp.example.com,*.internal.example.com", "no_proxy": "corp.example.com,.internal.example.com"},
			status: StatusOK},
		{name: "private proxy host", vars: map[string]string{"HTTPS_PROXY": "http://a.example.com:3128", "GOPROXY": "https://athens.corp.internal,direct", "NO_PROXY": "localhost"},
			status: StatusWarn, summary: "athens.corp.internal", fix: "export NO_PROXY=localhost,athens.corp.internal"},
		{name: "cgi", vars: map[string]string{"HTTP_PROXY": "http://a.example.com:3128", "HTTPS_PROXY": "http://a.example.com:3128", "REQUEST_METHOD": "GET"},
			status: StatusInfo, summary: "ignores HTTP_PROXY (httpoxy protection)"},
	})
}
