package envcheck

import (
	"context"
	"strings"
	"testing"
)

// TestNoPrivatePathLeaves runs every check, live probes included, with
// private patterns that cover the usual probe modules, and records every
// request every server receives: no private module path may appear.
func TestNoPrivatePathLeaves(t *testing.T) {
	for _, tc := range []struct {
		name      string
		private   []string // variable, value pairs
		forbidden []string // path prefixes no request may carry
		wantPath  string   // the public module the probes must use instead; "" for none
	}{
		{"GOPRIVATE", []string{"GOPRIVATE", "golang.org/x"}, []string{"/golang.org/"}, "rsc.io/quote"},
		{"GONOPROXY", []string{"GONOPROXY", "golang.org,rsc.io"}, []string{"/golang.org/", "/rsc.io/"}, "github.com/google/uuid"},
		{"GONOSUMDB", []string{"GONOSUMDB", "golang.org/x/mod,golang.org/x/text"}, []string{"/golang.org/"}, "rsc.io/quote"},
		{"everything", []string{"GOPRIVATE", "*"}, []string{"/@v/"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNet(t)
			db := newSumDB(t, "sum.example.test")
			v := vars("GOPROXY", n.Serve("proxy.example.test", nil, moduleProxy(db))+"|"+n.Serve("second.example.test", nil, moduleProxy(db))+",direct",
				"GOSUMDB", db.vkey, "HTTPS_PROXY", n.NewProxy(0, ""))
			for i := 0; i+1 < len(tc.private); i += 2 {
				v[tc.private[i]] = tc.private[i+1]
			}
			env, _ := probeEnv(t, v)
			rep := Run(context.Background(), n.options(env))
			if len(rep.Checks) != len(Checks()) {
				t.Fatalf("ran %d checks", len(rep.Checks))
			}
			used := false
			for _, req := range n.Requests() {
				for _, bad := range tc.forbidden {
					if strings.Contains(req, bad) {
						t.Errorf("a server received a private module path: %q", req)
					}
				}
				if tc.wantPath != "" && strings.Contains(req, "/"+tc.wantPath+"/@v/list") {
					used = true
				}
			}
			if tc.wantPath != "" && !used {
				t.Errorf("no request for %s; requests: %q", tc.wantPath, n.Requests())
			}
		})
	}
}
