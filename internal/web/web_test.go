package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://proxy.example.com/mod", "https://proxy.example.com/mod"},
		{"https://user:hunter2@b.example", "https://xxxxx@b.example"},
		{"https://ghp_SECRETTOKEN@b.example/x", "https://xxxxx@b.example/x"},
		{"https://ghp_SECRETTOKEN:x-oauth-basic@b.example/x?q=1", "https://xxxxx@b.example/x?q=1"},
		{"https://proxy.example.com/m/@v/list", "https://proxy.example.com/m/@v/list"},
		{"https://a@b@c.example/p@q", "https://xxxxx@c.example/p@q"},
		// Unparsable: the authority's user information still goes.
		{"https://u:p@b.example/%zz", "https://xxxxx@b.example/%zz"},
		{"http://u:p w@[::1", "http://xxxxx@[::1"},
		// Opaque: no scheme, the user name parses as one.
		{"user:secret@host.example/p", "xxxxx@host.example/p"},
		{"git@github.com:org/repo", "xxxxx@github.com:org/repo"},
		{"ghp_TOKEN@proxy.example.com/m", "xxxxx@proxy.example.com/m"},
		{"golang.org/x/mod/@v/list", "golang.org/x/mod/@v/list"},
		{"https://me:secret@proxy.example.com/x/@v/list", "https://xxxxx@proxy.example.com/x/@v/list"},
		{"https://me:se%zzcret@proxy.example.com/@v", "https://xxxxx@proxy.example.com/@v"},
		{"http://proxy.example.com:3128", "http://proxy.example.com:3128"},
		// From modnet's GOAUTH tests.
		{"https://host/p", "https://host/p"},
		{"https://user:pass@host/p?q=1", "https://xxxxx@host/p?q=1"},
		{"https://token@host", "https://xxxxx@host"},
		{"127.0.0.1:8443/p", "127.0.0.1:8443/p"},
		{"user:pass@host/p", "xxxxx@host/p"},
		{"https://us er:pa ss@host/p", "https://xxxxx@host/p"},
		{"https://u:p@[::1/p", "https://xxxxx@[::1/p"},
		{"https://host/p@q", "https://host/p@q"},
		{"direct", "direct"},
		{"", ""},
	} {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := RedactURL(nil); got != "" {
		t.Errorf("RedactURL(nil) = %q", got)
	}
}

func TestRedactList(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://u:p@a.example,direct", "https://xxxxx@a.example,direct"},
		{"https://a.example|https://tok@b.example , off", "https://a.example|https://xxxxx@b.example , off"},
		{"sum.example+key https://u:p@sum.example", "sum.example+key https://xxxxx@sum.example"},
		{"a\tb@c.example", "a\txxxxx@c.example"},
		{",,", ",,"},
	} {
		if got := RedactList(tc.in); got != tc.want {
			t.Errorf("RedactList(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactError(t *testing.T) {
	cause := errors.New("connection refused")
	err := RedactError(&url.Error{Op: "Get", URL: "https://tok:pw@a.example/x", Err: cause})
	if got := err.Error(); got != `Get "https://xxxxx@a.example/x": connection refused` {
		t.Errorf("RedactError = %q", got)
	}
	if !errors.Is(err, cause) {
		t.Error("RedactError hides the cause from errors.Is")
	}
	err = RedactError(&url.Error{Op: "Get", URL: "https://user:***@host/", Err: io.EOF})
	if got, want := err.Error(), `Get "https://xxxxx@host/": EOF`; got != want {
		t.Errorf("RedactError = %q; want %q", got, want)
	}
	if !errors.Is(err, io.EOF) {
		t.Errorf("RedactError lost the cause: %v", err)
	}
	if other := errors.New("x"); RedactError(other) != other {
		t.Error("RedactError changed an error without a URL")
	}
}

// FuzzRedact: whatever the input, the user information of a URL that
// parses never shows.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{"https://u:p@h/x", "u:p@h", "https://h/@v/list", "http://a@b@c/%", "https://u@h,direct"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		split := func(s string) []string {
			return strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(",| \t", r) })
		}
		in, out := split(s), split(RedactList(s))
		if len(in) != len(out) {
			t.Fatalf("RedactList(%q) = %q: the entries changed", s, RedactList(s))
		}
		for i, tok := range in {
			if out[i] != Redact(tok) {
				t.Errorf("RedactList(%q) entry %d = %q, Redact = %q", s, i, out[i], Redact(tok))
			}
			u, err := url.Parse(tok)
			if err != nil || u.User == nil {
				continue
			}
			red, err := url.Parse(out[i])
			if err != nil || red.User == nil || red.User.String() != hidden {
				t.Errorf("Redact(%q) = %q: user information not hidden", tok, out[i])
			}
		}
	})
}

func TestCheckRedirect(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer plain.Close()
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/down":
			http.Redirect(w, r, strings.Replace(plain.URL, "http://", "http://tok:pw@", 1)+"/x", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		}
	}))
	defer secure.Close()
	c := secure.Client()
	c.CheckRedirect = CheckRedirect
	get := func(u string) error {
		resp, err := c.Get(u)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	err := get(strings.Replace(secure.URL, "https://", "https://me:secret@", 1) + "/down")
	var ire *InsecureRedirectError
	if !errors.As(err, &ire) {
		t.Fatalf("https→http: %v, want an InsecureRedirectError", err)
	}
	want := "redirected from secure URL https://xxxxx@" + strings.TrimPrefix(secure.URL, "https://") + "/down to insecure URL http://xxxxx@" + strings.TrimPrefix(plain.URL, "http://") + "/x"
	if ire.Error() != want {
		t.Errorf("error:\n\t%s\nwant:\n\t%s", ire, want)
	}
	if err := get(secure.URL + "/loop"); err == nil || !strings.Contains(err.Error(), "stopped after 10 redirects") {
		t.Errorf("loop: %v", err)
	}
	// An insecure chain may go anywhere but not forever.
	c.CheckRedirect = LimitRedirects
	if err := get(secure.URL + "/down"); err != nil {
		t.Errorf("LimitRedirects refused a downgrade: %v", err)
	}
}

// TestGet: a GET through any client's Do is refused when redirects
// brought it from https to http, unless it is insecure on purpose.
func TestGet(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer plain.Close()
	secure := httptest.NewTLSServer(http.RedirectHandler(plain.URL+"/x", http.StatusFound))
	defer secure.Close()
	u, _ := url.Parse(secure.URL + "/start")
	follow := secure.Client().Do // follows everything
	_, err := Get(context.Background(), follow, u, true)
	if want := `Get "` + plain.URL + `/x": redirected from secure URL ` + u.String() + " to insecure URL " + plain.URL + "/x"; err == nil || err.Error() != want {
		t.Errorf("Get = %v, want %s", err, want)
	}
	var ire *InsecureRedirectError
	if !errors.As(err, &ire) {
		t.Errorf("Get error %v is no InsecureRedirectError", err)
	}
	resp, err := Get(context.Background(), follow, u, false)
	if err != nil {
		t.Fatalf("insecure Get: %v", err)
	}
	resp.Body.Close()
	pu, _ := url.Parse(plain.URL)
	resp, err = Get(context.Background(), Client.Do, pu, true)
	if err != nil {
		t.Fatalf("plain http answer refused: %v", err)
	}
	resp.Body.Close()
	// A client with the policy never follows the downgrade.
	c := secure.Client()
	c.CheckRedirect = Client.CheckRedirect
	if _, err := Get(context.Background(), c.Do, u, true); err == nil || !strings.Contains(err.Error(), "redirected from secure URL") {
		t.Errorf("CheckRedirect followed https→http: %v", err)
	}
}
