package modnet

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/modkit/modkit/internal/testenv"
)

// TestDirectPolicyMatchesGoCommand compares the decisions made before any
// repository is contacted — GOVCS, GOINSECURE, certificate checks,
// https-to-http redirects — with the go command's, for 'go list -m
// -versions' of one module.
func TestDirectPolicyMatchesGoCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	f := newDirectFixture(t)
	insecureTags := testenv.GoImport(
		"insecure.modkit.test/plain git https://git.modkit.test/plain",
		"redirect.modkit.test/plain git https://git.modkit.test/plain",
	)
	f.Net.HandleHTTP("insecure.modkit.test", insecureTags)
	f.Net.HandleHTTP("redirect.modkit.test", insecureTags)
	f.Net.HandleHTTPS("redirect.modkit.test", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://insecure.modkit.test"+r.URL.RequestURI(), http.StatusFound)
	}))
	f.Net.HandleHTTPS("untrusted.modkit.test", testenv.GoImport("untrusted.modkit.test/plain git https://git.modkit.test/plain"))

	tests := []struct {
		name      string
		module    string
		env       []string
		untrusted bool // neither side trusts the fake net's certificate
		setting   bool // a malformed setting: modkit adds its origin
		wantOK    bool
	}{
		{name: "default GOVCS allows public git", module: testenv.FixturePlain, wantOK: true},
		{name: "GOVCS pattern refuses git", module: testenv.FixturePlain, env: []string{"GOVCS", "vanity.modkit.test:hg"}},
		{name: "GOVCS pattern allows git", module: testenv.FixturePlain, env: []string{"GOVCS", "vanity.modkit.test:git,*:off"}, wantOK: true},
		{name: "GOVCS off for all", module: testenv.FixturePlain, env: []string{"GOVCS", "*:off"}},
		{name: "GOVCS private rule", module: testenv.FixturePlain, env: []string{"GOVCS", "private:hg", "GOPRIVATE", "vanity.modkit.test"}},
		{name: "GOVCS public rule does not apply to private", module: testenv.FixturePlain, env: []string{"GOVCS", "public:off", "GOPRIVATE", "*.modkit.test"}, wantOK: true},
		{name: "GOVCS malformed", module: testenv.FixturePlain, env: []string{"GOVCS", "git"}, setting: true},
		{name: "GOVCS unreachable pattern", module: testenv.FixturePlain, env: []string{"GOVCS", "a.com:git,a.com:hg"}, setting: true},
		{name: "http only without GOINSECURE", module: "insecure.modkit.test/plain"},
		{name: "http only with GOINSECURE", module: "insecure.modkit.test/plain", env: []string{"GOINSECURE", "insecure.modkit.test"}, wantOK: true},
		{name: "GOINSECURE glob", module: "insecure.modkit.test/plain", env: []string{"GOINSECURE", "*.modkit.test"}, wantOK: true},
		{name: "GOINSECURE other host", module: "insecure.modkit.test/plain", env: []string{"GOINSECURE", "other.modkit.test"}},
		{name: "untrusted certificate", module: "untrusted.modkit.test/plain", untrusted: true},
		{name: "untrusted certificate with GOINSECURE", module: "untrusted.modkit.test/plain", untrusted: true, env: []string{"GOINSECURE", "untrusted.modkit.test"}, wantOK: true},
		{name: "redirect https to http refused", module: "redirect.modkit.test/plain"},
		{name: "redirect https to http with GOINSECURE", module: "redirect.modkit.test/plain", env: []string{"GOINSECURE", "redirect.modkit.test"}, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := newGoCmd(t, f, tt.env...)
			if tt.untrusted {
				g.Env = append(g.Env, "SSL_CERT_FILE="+writeFile(t, t.TempDir()+"/none.pem", ""))
			}
			out, stderr, err := g.Run("list", "-m", "-e", "-versions", "-json", tt.module)
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, stderr)
			}
			var res struct {
				Versions []string
				Error    *struct{ Err string }
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("go list output: %v\n%s", err, out)
			}

			env := f.env(t, tt.env...)
			route, err := env.Route(tt.module)
			if err != nil {
				t.Fatal(err)
			}
			dopts := fakeDiscoverOptions(f.Net)
			if tt.untrusted {
				c := f.Net.Client()
				c.Transport.(*http.Transport).TLSClientConfig.RootCAs = nil
				dopts.Do = c.Do
			}
			ctx := context.Background()
			var versions []string
			r, err := newDirectRepo(ctx, env, route, tt.module, dopts, "")
			if err == nil {
				versions, err = r.Versions(ctx)
			}

			switch {
			case res.Error == nil && err != nil:
				t.Fatalf("direct mode fails: %v\ngo command lists %v", err, res.Versions)
			case res.Error != nil && err == nil:
				t.Fatalf("direct mode lists %v\ngo command fails: %s", versions, res.Error.Err)
			case res.Error != nil:
				// Same text, except that a malformed setting is wrapped in a
				// SettingError naming its origin and a fix around the go
				// command's text.
				if got, want := err.Error(), res.Error.Err; got != want {
					prefix := fmt.Sprintf("unrecognized import path %q: ", tt.module)
					if !tt.setting || !strings.HasPrefix(got, prefix) || !strings.Contains(got, strings.TrimPrefix(want, prefix)) {
						t.Errorf("error:\n\t%s\ngo command:\n\t%s", got, want)
					}
				}
				if tt.wantOK {
					t.Errorf("want success")
				}
			default:
				if !reflect.DeepEqual(versions, res.Versions) {
					t.Errorf("versions %v, go command %v", versions, res.Versions)
				}
				if !tt.wantOK {
					t.Errorf("want failure")
				}
			}
			if res.Error != nil {
				t.Logf("go command: %s\ndirect mode: %v", res.Error.Err, err)
			}
		})
	}
}
