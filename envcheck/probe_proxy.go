package envcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/note"

	"github.com/modkit/modkit/internal/web"
	"github.com/modkit/modkit/modnet"
)

// publicProbeModules are public modules a probe may ask proxies about. The
// first one that no private pattern matches is used: a doctor must never
// send a private module path to a proxy, which is the very leak GOPRIVATE
// exists to prevent.
var publicProbeModules = []string{"golang.org/x/mod", "golang.org/x/text", "rsc.io/quote", "github.com/google/uuid"}

// probeModule returns the public module to ask about, or "" when every
// candidate matches GOPRIVATE, GONOPROXY or GONOSUMDB.
func probeModule(env *modnet.Env) string {
	for _, m := range publicProbeModules {
		if !module.MatchPrefixPatterns(env.Get("GOPRIVATE"), m) &&
			!module.MatchPrefixPatterns(env.Get("GONOPROXY"), m) &&
			!module.MatchPrefixPatterns(env.Get("GONOSUMDB"), m) {
			return m
		}
	}
	return ""
}

// probeGOPROXY asks each proxy in GOPROXY for a public module's version
// list, the first request the go command makes for a module.
func probeGOPROXY(ctx context.Context, r *runner) Result {
	list, err := r.env.ProxyList()
	if err != nil {
		return skip("GOPROXY does not parse (see goproxy.syntax)")
	}
	mod := probeModule(r.env)
	if mod == "" {
		return skip("every public probe module matches GOPRIVATE/GONOPROXY/GONOSUMDB; not asking proxies about any module")
	}
	var proxies []int
	for i, s := range list {
		if s.Kind == modnet.KindProxy {
			proxies = append(proxies, i)
		}
	}
	if len(proxies) == 0 {
		return skip("GOPROXY=%s has no proxies", list[0].Kind)
	}

	fetches := make([]*fetch, len(list))
	var wg sync.WaitGroup
	for _, i := range proxies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if dir, err := fileProxyDir(list[i]); err != nil {
				fetches[i] = &fetch{url: list[i].Redacted(), err: err, phases: &phases{}}
				return
			} else if dir != "" {
				if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
					if err == nil {
						err = fmt.Errorf("%s is not a directory", dir)
					}
					fetches[i] = &fetch{url: list[i].Redacted(), err: fmt.Errorf("%w: %w", errFileProxy, err), phases: &phases{}}
					return
				}
			}
			u, err := list[i].ListURL(mod)
			if err != nil {
				fetches[i] = &fetch{url: list[i].Redacted(), err: err, phases: &phases{}}
				return
			}
			fetches[i] = r.get(ctx, u)
		}()
	}
	wg.Wait()

	var f findings
	answered := 0
	for _, i := range proxies {
		s, fe := list[i], fetches[i]
		var next *modnet.Source
		if i+1 < len(list) {
			next = &list[i+1]
		}
		if reportProxyAnswer(r.stopped, &f, s, next, fe, mod) {
			answered++
		}
	}
	return f.result(fmt.Sprintf("%d of %s answer for %s", answered, plural(len(proxies), "proxy", "proxies"), mod))
}

// errFileProxy marks a file:// proxy whose directory is unusable.
var errFileProxy = errors.New("file proxy")

// fileProxyDir returns the directory of a file:// proxy, or "".
func fileProxyDir(s modnet.Source) (string, error) {
	if !strings.HasPrefix(s.URL, "file:") {
		return "", nil
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return "", err
	}
	return fileURLPath(u)
}

// reportProxyAnswer turns one proxy's answer into findings; it reports
// whether the proxy answered usefully. ctx is the run's context, for
// telling a stopped run from a probe timeout.
func reportProxyAnswer(ctx context.Context, f *findings, s modnet.Source, next *modnet.Source, fe *fetch, mod string) bool {
	name := s.Redacted()
	via := ""
	if fe.proxy != nil {
		via = " via " + web.Redact(fe.proxy.String())
	}
	if errors.Is(fe.err, errFileProxy) {
		f.add(StatusError, "create the directory, or fix the file:// entry in GOPROXY", "%s: %v", name, fe.err)
		return false
	}
	if fe.err != nil || fe.resp == nil {
		class, summary, fix := explain(ctx, fe.err, nil)
		if class == "timeout" {
			if st := fe.phases.stalledAfter(); st != "" {
				summary += " (" + st + ")"
			}
		}
		f.add(StatusError, fix, "%s%s: %s [%s]", name, via, summary, class)
		f.note("%s: %v", fe.url, fe.err)
		return false
	}
	timing := fe.phases.String()
	switch code := fe.resp.StatusCode; {
	case code == http.StatusOK:
		if looksLikeHTML(fe.resp, fe.body) {
			f.add(StatusWarn, "open "+fe.url+" in a browser: a login page or captive portal may be in the way",
				"%s%s answered HTML, not a version list, for %s", name, via, mod)
			return false
		}
		n := len(strings.Fields(string(fe.body)))
		f.note("%s%s: %d versions of %s (%s)", name, via, n, mod, timing)
		return true
	case code == http.StatusNotFound || code == http.StatusGone:
		what, status := "and it is the last entry: public modules cannot be downloaded", StatusWarn
		if next != nil && next.Kind != modnet.KindOff {
			what, status = "the go command moves on to "+next.Redacted(), StatusInfo
		}
		f.add(status, "", "%s%s does not have %s (%s); %s", name, via, mod, fe.resp.Status, what)
		return false
	default:
		class, summary, fix := explain(ctx, nil, fe.resp)
		if class == "auth" {
			fix = fmt.Sprintf("add 'machine %s login USER password TOKEN' to ~/.netrc (GOAUTH=netrc), or ask the proxy's operators for access", hostOf(s.URL))
			if code == http.StatusProxyAuthRequired {
				fix = "put the proxy credentials in HTTPS_PROXY: export HTTPS_PROXY=http://USER:PASSWORD@proxy.host:port"
			}
		}
		stop := ""
		if s.Fallback == modnet.FallbackNotFound && next != nil {
			stop = "; after ',' the go command stops here and does not try " + next.Redacted()
		}
		f.add(StatusError, fix, "%s%s: %s [%s]%s", name, via, summary, class, stop)
		f.note("%s: %s (%s)", fe.url, fe.resp.Status, timing)
		if fe.authErr != nil {
			f.note("%v", fe.authErr)
		}
		return false
	}
}

func looksLikeHTML(resp *http.Response, body []byte) bool {
	return strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		bytes.HasPrefix(bytes.TrimSpace(body), []byte("<"))
}

func hostOf(rawURL string) string {
	if i := strings.Index(rawURL, "://"); i >= 0 {
		rawURL = rawURL[i+3:]
	}
	host, _, _ := strings.Cut(rawURL, "/")
	if at := strings.LastIndex(host, "@"); at >= 0 {
		host = host[at+1:]
	}
	return host
}

// errSumDBDirect ends the proxy walk at direct or off: the database's own
// URL is used, as after proxies that do not have it.
var errSumDBDirect = fmt.Errorf("direct or off: %w", fs.ErrNotExist)

// A supportedFailure is a proxy's failed answer to /sumdb/<name>/supported
// other than not-found.
type supportedFailure struct{ fe *fetch }

func (e *supportedFailure) Error() string { return e.fe.url + ": supported failed" }

// probeSumDB finds the checksum database the way the go command does
// (cmd/go/internal/modfetch.dbClient.initBase): each proxy is asked
// <proxy>/sumdb/<name>/supported; 200 means use it, 404/410 (or any
// failure after '|') means try the next, anything else means the database
// is unavailable; direct, off or the end of the list mean the database's
// own URL. Then it fetches the signed tree head, /latest, and verifies
// its signature with the database's key.
func probeSumDB(ctx context.Context, r *runner) Result {
	mod := probeModule(r.env)
	if mod == "" {
		mod = publicProbeModules[0]
	}
	route, err := r.env.Route(mod)
	if err != nil {
		return skip("GOPROXY does not parse (see goproxy.syntax)")
	}
	db := route.ChecksumDB
	if !db.Verify {
		return skip("checksum database not used for public modules: %s", db.Reason)
	}
	if db.Err != nil {
		return skip("GOSUMDB does not parse (see gosumdb.syntax)")
	}
	var f findings
	base, via := db.URL, "its own URL (GOSUMDB)"
	if !db.Explicit {
		via = "directly at " + db.URL
		list, err := r.env.ProxyList()
		if err != nil {
			return skip("GOPROXY does not parse (see goproxy.syntax)")
		}
		// The go command's walk (modnet.Walk), each answer noted: 200 ends
		// it, 404/410 moves on, another failure moves on only after '|'
		// and then still decides the outcome unless a later proxy answers.
		err = modnet.Walk(ctx, list, func(s modnet.Source) error {
			if s.Kind != modnet.KindProxy {
				return errSumDBDirect
			}
			fe := r.get(ctx, strings.TrimSuffix(s.URL, "/")+"/sumdb/"+db.Name+"/supported")
			switch {
			case fe.err == nil && fe.resp.StatusCode == http.StatusOK:
				base, via = strings.TrimSuffix(s.URL, "/")+"/sumdb/"+db.Name, "through "+s.Redacted()
				return nil
			case fe.err == nil && (fe.resp.StatusCode == http.StatusNotFound || fe.resp.StatusCode == http.StatusGone):
				f.note("%s does not proxy the checksum database (%s)", s.Redacted(), fe.resp.Status)
				return fs.ErrNotExist
			}
			pf := &supportedFailure{fe: fe}
			if s.Fallback == modnet.FallbackAny {
				_, summary, _ := explain(r.stopped, fe.err, fe.resp)
				f.note("%s: %s; '|' moves on", s.Redacted(), summary)
			}
			return pf
		})
		var pf *supportedFailure
		var we *modnet.WalkError
		if errors.As(err, &pf) && errors.As(err, &we) {
			class, summary, fix := explain(r.stopped, pf.fe.err, pf.fe.resp)
			stop := "the go command stops there"
			if last := we.Tried[len(we.Tried)-1]; last.Source != we.Source {
				stop = "the go command reports this failure: no later proxy offers the database"
			}
			f.add(StatusError, fix, "checksum database unavailable: %s failed %s/sumdb/%s/supported: %s [%s]; %s",
				we.Source, we.Source, db.Name, summary, class, stop)
			if pf.fe.err != nil {
				f.note("%v", pf.fe.err)
			}
			return f.result("")
		}
	}

	fe := r.get(ctx, base+"/latest")
	if fe.err != nil || fe.resp.StatusCode != http.StatusOK {
		class, summary, fix := explain(r.stopped, fe.err, fe.resp)
		f.add(StatusError, fix, "checksum database %s %s: /latest failed: %s [%s]", db.Name, via, summary, class)
		if fe.err != nil {
			f.note("%v", fe.err)
		}
		return f.result("")
	}
	verifier, err := note.NewVerifier(db.Key)
	if err != nil {
		f.add(StatusError, "", "checksum database key: %v", err)
		return f.result("")
	}
	n, err := note.Open(fe.body, note.VerifierList(verifier))
	if err != nil {
		f.add(StatusError, "find out what rewrites HTTPS answers on this network (an intercepting proxy, a captive portal), or use a proxy you trust",
			"the answer from %s is not signed by %s (%v): something between you and the database alters it", fe.url, db.Name, err)
		return f.result("")
	}
	size := "?"
	if lines := strings.Split(n.Text, "\n"); len(lines) > 1 {
		size = lines[1]
	}
	f.note("%s (%s)", fe.url, fe.phases)
	return f.result(fmt.Sprintf("checksum database %s reached %s: signed tree of %s records", db.Name, via, size))
}
