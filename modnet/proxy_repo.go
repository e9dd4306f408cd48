package modnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"

	"github.com/modkit/modkit/internal/web"
	"github.com/modkit/modkit/retry"
)

// Size limits, as cmd/go/internal/modfetch/codehost sets them.
const (
	maxZipFile = 500 << 20 // codehost.MaxZipFile
	maxGoMod   = 16 << 20  // codehost.MaxGoMod
	maxInfo    = 16 << 20  // metadata answers: .info, list, @latest
)

// proxyRepo serves one module from one GOPROXY entry: https, http or file
// (cmd/go/internal/modfetch/proxy.go).
type proxyRepo struct {
	c    *Client
	src  Source
	path string
}

// fetchError is a failed request to a source, worded like the go command's
// (cmd/go/internal/web: HTTPError, url.Error), followed by what modkit
// tried. It matches fs.ErrNotExist for 404 and 410, and unwraps to the
// *retry.Error that carries the error class.
type fetchError struct {
	url        string // redacted
	op         string // "Get" or "read", for failures without a status
	status     string // "404 Not Found"; for file URLs the status text alone
	statusCode int
	detail     string // the server's explanation
	err        error  // *retry.Error or a file error
	attempts   int
	elapsed    time.Duration
}

func (e *fetchError) Error() string {
	var s string
	switch {
	case e.statusCode != 0 && e.detail != "":
		sep := " "
		if strings.Contains(e.detail, "\n") {
			sep = "\n\t"
		}
		s = fmt.Sprintf("reading %s: %s\n\tserver response:%s%s", e.url, e.status, sep, e.detail)
	case e.statusCode != 0 && e.err != nil:
		var pe *fs.PathError
		inner := e.err
		if errors.As(e.err, &pe) {
			inner = pe.Err
		}
		s = fmt.Sprintf("reading %s: %v", e.url, inner)
	case e.statusCode != 0:
		s = fmt.Sprintf("reading %s: %s", e.url, e.status)
	default:
		s = fmt.Sprintf("%s %q: %v", e.op, e.url, rootCause(e.err))
	}
	if e.attempts > 1 {
		s += fmt.Sprintf(" (modkit: %d attempts in %s)", e.attempts, e.elapsed.Round(time.Millisecond))
	}
	return s
}

func (e *fetchError) Unwrap() error { return e.err }

func (e *fetchError) Is(target error) bool {
	return target == fs.ErrNotExist && (e.statusCode == http.StatusNotFound || e.statusCode == http.StatusGone)
}

// rootCause strips retry's wrapping, whose own message repeats the URL.
func rootCause(err error) error {
	var re *retry.Error
	if errors.As(err, &re) && re.Err != nil {
		return re.Err
	}
	return err
}

// newFetchError converts a retry failure into the go command's wording.
func newFetchError(redacted string, err error) error {
	if err == nil {
		return nil
	}
	var re *retry.Error
	if !errors.As(err, &re) {
		var se *SettingError
		if errors.As(err, &se) {
			return err // a bad GOAUTH, found at the first https request
		}
		return &fetchError{url: redacted, op: "Get", err: web.RedactError(err)}
	}
	fe := &fetchError{url: redacted, op: "Get", status: re.Status, statusCode: re.StatusCode,
		detail: re.Detail, err: re, attempts: re.Attempts, elapsed: re.Elapsed}
	if re.Class == retry.Truncated || re.Class == retry.Corrupt || re.Class == retry.TooLarge {
		fe.op = "read"
	}
	return fe
}

// fileURLPath converts a file:// URL to a local path, as cmd/go/internal/web's
// urlToFilePath does.
func fileURLToPath(u *url.URL) (string, error) {
	if u.Host != "" && u.Host != "localhost" {
		return "", fmt.Errorf("file URL specifies non-local host %q", u.Host)
	}
	p := u.Path
	if runtime.GOOS == "windows" {
		// file:///C:/dir → C:\dir
		p = strings.TrimPrefix(p, "/")
	}
	return filepath.FromSlash(p), nil
}

// target returns the URL of file under the module's base URL.
func (p *proxyRepo) target(file string) (*url.URL, error) {
	s, err := p.src.fileURL(p.path, file)
	if err != nil {
		return nil, err
	}
	return url.Parse(s)
}

// getBytes fetches one protocol file into memory.
func (p *proxyRepo) getBytes(ctx context.Context, file string, limit int64) ([]byte, error) {
	u, err := p.target(file)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	var data []byte
	if u.Scheme == "file" {
		data, err = p.readFile(u, limit, io.Discard)
	} else {
		var req *http.Request
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err == nil {
			data, err = p.c.http.GetBytes(req, limit)
		}
		err = newFetchError(web.RedactURL(u), err)
	}
	p.c.fetched(p.path, web.RedactURL(u), start, err)
	return data, err
}

// readFile reads a file:// protocol file with the go command's rules: a
// missing file is "404 Not Found", an unreadable one "403 Forbidden". With
// dst other than io.Discard the content streams to dst instead.
func (p *proxyRepo) readFile(u *url.URL, limit int64, dst io.Writer) ([]byte, error) {
	name, err := fileURLToPath(u)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &fetchError{url: web.RedactURL(u), status: http.StatusText(http.StatusNotFound), statusCode: http.StatusNotFound, err: err}
	case errors.Is(err, fs.ErrPermission):
		return nil, &fetchError{url: web.RedactURL(u), status: http.StatusText(http.StatusForbidden), statusCode: http.StatusForbidden, err: err}
	case err != nil:
		return nil, err
	}
	defer f.Close()
	lr := &io.LimitedReader{R: f, N: limit + 1}
	if dst != io.Discard {
		_, err = io.Copy(dst, lr)
		if err == nil && lr.N <= 0 {
			err = errZipTooLarge
		}
		return nil, err
	}
	data, err := io.ReadAll(lr)
	if err == nil && lr.N <= 0 {
		err = fmt.Errorf("reading %s: response larger than %d bytes", web.RedactURL(u), limit)
	}
	return data, err
}

var errZipTooLarge = errors.New("downloaded zip file too large")

// Versions returns the tagged versions in the proxy's list, sorted
// (cmd/go/internal/modfetch.proxyRepo.Versions).
func (p *proxyRepo) Versions(ctx context.Context) ([]string, error) {
	data, err := p.getBytes(ctx, "@v/list", maxInfo)
	if err != nil {
		return nil, err
	}
	var list []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 1 && semver.IsValid(f[0]) && !module.IsPseudoVersion(f[0]) {
			list = append(list, f[0])
		}
	}
	semver.Sort(list)
	return list, nil
}

// Latest answers @latest, falling back to the newest pseudo-version in the
// list when the proxy has no @latest (proxyRepo.Latest and latestFromList).
func (p *proxyRepo) Latest(ctx context.Context) (*Info, error) {
	data, err := p.getBytes(ctx, "@latest", maxInfo)
	if err == nil {
		info := new(Info)
		if err := json.Unmarshal(data, info); err != nil {
			return nil, fmt.Errorf("invalid response from proxy %q: %w", p.src.Redacted(), err)
		}
		return info, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	data, err = p.getBytes(ctx, "@v/list", maxInfo)
	if err != nil {
		return nil, err
	}
	var best string
	var bestTime time.Time
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !semver.IsValid(f[0]) {
			continue
		}
		var t time.Time
		switch {
		case len(f) >= 2:
			t, _ = time.Parse(time.RFC3339, f[1])
		case module.IsPseudoVersion(f[0]):
			t, _ = module.PseudoVersionTime(f[0])
		default:
			continue // tagged versions were handled by the caller
		}
		if bestTime.Before(t) {
			best, bestTime = f[0], t
		}
	}
	if best == "" {
		return nil, notExistError{errors.New("no commits")}
	}
	return p.Stat(ctx, best)
}

// Stat fetches a version's .info (proxyRepo.Stat): a canonical version
// valid for the path must come back unchanged.
func (p *proxyRepo) Stat(ctx context.Context, rev string) (*Info, error) {
	enc, err := module.EscapeVersion(rev)
	if err != nil {
		return nil, err
	}
	data, err := p.getBytes(ctx, "@v/"+enc+".info", maxInfo)
	if err != nil {
		return nil, err
	}
	info := new(Info)
	if err := json.Unmarshal(data, info); err != nil {
		return nil, fmt.Errorf("invalid response from proxy %q: %w", p.src.Redacted(), err)
	}
	if info.Version != rev && rev == module.CanonicalVersion(rev) && module.Check(p.path, rev) == nil {
		return nil, fmt.Errorf("proxy returned info for version %s instead of requested version", info.Version)
	}
	return info, nil
}

// GoMod fetches a version's go.mod.
func (p *proxyRepo) GoMod(ctx context.Context, version string) ([]byte, error) {
	enc, err := module.EscapeVersion(version)
	if err != nil {
		return nil, err
	}
	return p.getBytes(ctx, "@v/"+enc+".mod", maxGoMod)
}

// Zip streams a version's zip into dst. When dst is a zipFile (a *ZipTemp,
// or a progressFile around one) the transfer resumes after a cut and is
// repeated once if the result is not a readable zip
// (retry.Client.Download); otherwise it is one plain GET.
func (p *proxyRepo) Zip(ctx context.Context, dst io.Writer, version string) error {
	enc, err := module.EscapeVersion(version)
	if err != nil {
		return err
	}
	u, err := p.target("@v/" + enc + ".zip")
	if err != nil {
		return err
	}
	start := time.Now()
	if u.Scheme == "file" {
		_, err = p.readFile(u, maxZipFile, dst)
		p.c.fetched(p.path, web.RedactURL(u), start, err)
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	if tmp, ok := dst.(zipFile); ok {
		lim := &limitedFile{zipFile: tmp, max: maxZipFile}
		opts := &retry.DownloadOptions{Verify: func(int64) error { return tmp.Check() }, OnSize: tmp.sized}
		if p.c.http.Disabled {
			opts = nil
		}
		_, err = p.c.http.Download(req, lim, opts)
		if lim.over.Load() {
			err = errZipTooLarge
		}
	} else {
		var resp *http.Response
		resp, err = p.c.http.Do(req)
		if err == nil {
			err = copyBody(resp, dst)
		}
	}
	err = newFetchError(web.RedactURL(u), err)
	p.c.fetched(p.path, web.RedactURL(u), start, err)
	return err
}

// copyBody copies a 200 answer's body to dst with the zip size limit.
func copyBody(resp *http.Response, dst io.Writer) error {
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &retry.Error{Method: http.MethodGet, URL: web.RedactURL(resp.Request.URL), StatusCode: resp.StatusCode,
			Status: resp.Status, Class: retry.Classify(resp.Request.Context(), nil, resp), Attempts: 1}
	}
	lr := &io.LimitedReader{R: resp.Body, N: maxZipFile + 1}
	if _, err := io.Copy(dst, lr); err != nil {
		return &retry.Error{Method: http.MethodGet, URL: web.RedactURL(resp.Request.URL), Class: retry.Truncated, Err: err, Attempts: 1}
	}
	if lr.N <= 0 {
		return errZipTooLarge
	}
	return nil
}

// limitedFile fails writes beyond max bytes, so an endless body cannot
// fill the disk; the failure is local and not retried.
type limitedFile struct {
	zipFile
	max  int64
	n    int64
	over atomic.Bool // written by the racing copies of a hedged body too
}

func (l *limitedFile) Write(p []byte) (int, error) {
	if l.n+int64(len(p)) > l.max {
		l.over.Store(true)
		return 0, errZipTooLarge
	}
	n, err := l.zipFile.Write(p)
	l.n += int64(n)
	return n, err
}

// WriteAt writes at an offset, for the racing copies of a hedged body.
func (l *limitedFile) WriteAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > l.max {
		l.over.Store(true)
		return 0, errZipTooLarge
	}
	return l.zipFile.WriteAt(p, off)
}

func (l *limitedFile) Seek(offset int64, whence int) (int64, error) {
	pos, err := l.zipFile.Seek(offset, whence)
	if err == nil {
		l.n = pos
	}
	return pos, err
}

// fetched reports a finished request to OnFetch.
func (c *Client) fetched(path, redacted string, start time.Time, err error) {
	if c.OnFetch == nil {
		return
	}
	ev := FetchEvent{Module: path, URL: redacted, Err: err, Elapsed: time.Since(start)}
	var fe *fetchError
	switch {
	case err == nil:
		ev.Status = "200 OK"
	case errors.As(err, &fe) && fe.statusCode != 0:
		ev.Status = fe.status
		if !strings.HasPrefix(ev.Status, fmt.Sprint(fe.statusCode)) {
			ev.Status = fmt.Sprintf("%d %s", fe.statusCode, fe.status)
		}
	}
	c.OnFetch(ev)
}

// authTransport applies GOAUTH credentials to every https attempt below the
// retry loop, and after a 4xx re-runs the GOAUTH commands with the URL and
// repeats the request once when they produced new credentials, as
// cmd/go/internal/web does. Redirected requests get no credentials added
// here: the redirect policy decides what may follow them.
type authTransport struct {
	c    *Client
	base http.RoundTripper
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" || req.Response != nil {
		return t.base.RoundTrip(req)
	}
	a, err := t.c.authenticator()
	if err != nil {
		return nil, err
	}
	req = req.Clone(req.Context())
	a.Apply(req)
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.StatusCode < 400 || resp.StatusCode >= 500 {
		return resp, err
	}
	hc := &http.Client{Transport: t.base, CheckRedirect: a.CheckRedirect}
	again, _ := a.RetryAfter(req.Context(), hc, req, resp)
	if !again {
		return resp, nil
	}
	resp.Body.Close()
	req = req.Clone(req.Context())
	a.Apply(req)
	return t.base.RoundTrip(req)
}
