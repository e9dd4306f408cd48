package goauth

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/modkit/modkit/internal/web"
)

// runCustom runs a custom GOAUTH command and returns the credentials it
// prints, by prefix (cmd/go/internal/auth.runAuthCommand). The command line
// is split like the go command splits it (quotes, no escapes); rawURL, if
// not empty, is appended as the last argument, and resp, if not nil, is
// written to the command's stdin.
func (a *Authenticator) runCustom(ctx context.Context, c Command, rawURL string, resp *http.Response) (map[string]http.Header, error) {
	if c.SplitErr != nil {
		return nil, fmt.Errorf("cannot parse GOAUTH command %s: %v", c.Text, c.SplitErr)
	}
	name := c.Argv[0]
	path := name
	if filepath.Base(name) == name {
		p, err := a.lookPath(name)
		if err != nil {
			return nil, fmt.Errorf("could not run command %s: %v", c.Text, err)
		}
		path = p
	}
	args := slices.Clone(c.Argv[1:])
	if rawURL != "" {
		args = append(args, rawURL)
	}
	cmd := a.command(ctx, path, args...)
	cmd.Args[0] = name
	if resp != nil {
		cmd.Stdin = strings.NewReader(responseStdin(resp))
	}
	out, err := runOutput(cmd)
	if err != nil {
		return nil, fmt.Errorf("could not run command %s: %v", c.Text, err)
	}
	creds, err := parseUserAuth(string(out))
	if err != nil {
		return nil, fmt.Errorf("cannot parse output of GOAUTH command %s: %v", c.Text, err)
	}
	return creds, nil
}

// parseUserAuth parses the output of a custom GOAUTH command ('go help
// goauth', cmd/go/internal/auth.parseUserAuth): blocks of URL lines, an
// empty line, header lines, an empty line. It returns the headers by
// prefix, without "https://"; a block without headers withdraws the
// credentials for its URLs. URL lines that are not https URLs with a host
// are accepted and ignored. Errors name the line but never quote it, since
// a misplaced line may be a secret.
func parseUserAuth(data string) (map[string]http.Header, error) {
	creds := make(map[string]http.Header)
	lineNum := 0
	next := func() (string, bool) {
		line, rest, ok := strings.Cut(data, "\n")
		data = rest
		lineNum++
		return line, ok
	}
	for data != "" {
		var prefixes []string
		for {
			line, ok := next()
			if !ok {
				return nil, errors.New("invalid format: missing empty line after URLs")
			}
			if line == "" {
				break
			}
			u, err := url.ParseRequestURI(line)
			if err != nil {
				return nil, fmt.Errorf("line %d: could not parse URL", lineNum)
			}
			// Only https URLs with a host can ever match a request (the go
			// command stores the others too, uselessly). Dropping them also
			// keeps a header line that parses as a URL, "Authorization:
			// Bearer x", out of the store and the logs.
			if u.Scheme == "https" && u.Host != "" {
				prefixes = append(prefixes, u.String())
			}
		}
		h := make(http.Header)
		for {
			line, ok := next()
			if !ok {
				return nil, errors.New("invalid format: missing empty line after headers")
			}
			if line == "" {
				break
			}
			name, value, ok := strings.Cut(line, ": ")
			value = strings.TrimSpace(value)
			if !ok || !validHeaderName(name) || !validHeaderValue(value) {
				return nil, fmt.Errorf("line %d: invalid format: invalid header line", lineNum)
			}
			h.Add(name, value)
		}
		for _, p := range prefixes {
			creds[strings.TrimPrefix(p, "https://")] = h.Clone()
		}
	}
	return creds, nil
}

// responseStdin renders resp's status line and headers for a GOAUTH
// command's stdin, in the format 'go help goauth' documents (readable with
// http.ReadResponse). Headers are sorted, unlike the go command's map
// order, so the input is reproducible.
func responseStdin(resp *http.Response) string {
	var b strings.Builder
	proto, status := resp.Proto, resp.Status
	if proto == "" {
		proto = "HTTP/1.1"
	}
	if status == "" {
		status = fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	b.WriteString(proto + " " + status + "\n")
	for _, k := range slices.Sorted(maps.Keys(resp.Header)) {
		b.WriteString(k + ": " + strings.Join(resp.Header[k], ", ") + "\n")
	}
	b.WriteString("\n")
	return b.String()
}

// gitFill asks 'git credential fill', run in dir, for rawURL's credentials
// (cmd/go/internal/auth.runGitAuth) and returns the URL prefix git answered
// for with a basic-auth header. If client is not nil, the credentials are
// checked in the background and git is told whether they work.
func (a *Authenticator) gitFill(ctx context.Context, client *http.Client, dir, rawURL string) (string, http.Header, error) {
	git, err := a.lookPath("git")
	if err != nil {
		return "", nil, err
	}
	cmd := a.command(ctx, git, "credential", "fill")
	cmd.Dir = dir // never an arbitrary directory: its git config could run anything (go.dev/issue/29230)
	cmd.Stdin = strings.NewReader("url=" + rawURL + "\n")
	out, err := runOutput(cmd)
	if err != nil {
		return "", nil, fmt.Errorf("'git credential fill' failed (url=%s): %v", web.Redact(rawURL), err)
	}
	prefix, user, password := a.parseGitCredential(out)
	if prefix == "" {
		return "", nil, fmt.Errorf("'git credential fill' failed for url=%s, could not parse url", web.Redact(rawURL))
	}
	if !strings.HasPrefix(rawURL, prefix) {
		return "", nil, fmt.Errorf("requested a credential for %s, but 'git credential fill' provided one for %s", web.Redact(rawURL), web.Redact(prefix))
	}
	h := basicAuth(user, password)
	if client != nil {
		a.validateGit(client, git, dir, prefix, h, out)
	}
	return prefix, h, nil
}

// parseGitCredential reads the output of 'git credential fill'
// (cmd/go/internal/auth.parseGitAuth): the prefix is the url attribute, or
// is assembled from protocol, host and path.
func (a *Authenticator) parseGitCredential(data []byte) (prefix, user, password string) {
	u := new(url.URL)
	for line := range strings.SplitSeq(string(data), "\n") {
		key, value, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		switch key {
		case "protocol":
			u.Scheme = value
		case "host":
			u.Host = value
		case "path":
			u.Path = value
		case "username":
			user = value
		case "password":
			password = value
		case "url":
			// A bad url keeps what protocol, host and path said.
			parsed, err := url.ParseRequestURI(value)
			if err != nil {
				a.logger.Debug("malformed URL from 'git credential fill'", "url", web.Redact(value))
				continue
			}
			u = parsed
		}
	}
	return u.String(), user, password
}

// validateGit tries the credentials with a HEAD request to prefix in the
// background and runs 'git credential approve' or 'reject' on the answer,
// so that a credential helper can cache or forget them
// (cmd/go/internal/auth.updateGitCredentialHelper). Like the go command it
// gives up after three attempts without a 200 or 401; unlike it, git runs in
// dir. close cancels it.
func (a *Authenticator) validateGit(client *http.Client, git, dir, prefix string, h http.Header, fill []byte) {
	a.bgMu.Lock()
	defer a.bgMu.Unlock()
	if a.bgCtx.Err() != nil {
		return
	}
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		for range 3 {
			req, err := http.NewRequestWithContext(a.bgCtx, http.MethodHead, prefix, nil)
			if err != nil {
				return
			}
			req.Header = h.Clone()
			resp, err := client.Do(req)
			if a.bgCtx.Err() != nil {
				return
			}
			if err != nil {
				continue
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusUnauthorized {
				continue
			}
			action := "reject"
			if resp.StatusCode == http.StatusOK {
				action = "approve"
			}
			cmd := a.command(a.bgCtx, git, "credential", action)
			cmd.Dir = dir
			cmd.Stdin = strings.NewReader(string(fill))
			if err := cmd.Run(); err != nil {
				a.logger.Debug("git credential "+action+" failed", "dir", dir, "err", err)
			}
			return
		}
	}()
}

// command prepares a GOAUTH program with the authenticator's environment.
// A cancelled ctx kills it; WaitDelay bounds the wait for children that
// keep its output open.
func (a *Authenticator) command(ctx context.Context, path string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = a.environ
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// runOutput runs cmd and returns its standard output. On failure the error
// carries the start of its standard error, where the program explains
// itself; standard output, which may hold credentials, is never quoted.
func runOutput(cmd *exec.Cmd) ([]byte, error) {
	stderr := &headBuffer{max: 1 << 10}
	cmd.Stderr = stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(string(stderr.buf)); msg != "" {
			return nil, fmt.Errorf("%v\n%s", err, msg)
		}
		return nil, err
	}
	return out, nil
}

// headBuffer keeps the first max bytes written to it and discards the rest.
type headBuffer struct {
	buf []byte
	max int
}

func (b *headBuffer) Write(p []byte) (int, error) {
	if n := b.max - len(b.buf); n > 0 {
		b.buf = append(b.buf, p[:min(n, len(p))]...)
	}
	return len(p), nil
}

// validHeaderName reports whether s is an HTTP header field name, an RFC
// 7230 token.
func validHeaderName(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return r >= 0x80 || !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
			strings.ContainsRune("!#$%&'*+-.^_`|~", r))
	})
}

// validHeaderValue reports whether s may be sent as a header field value:
// no control characters other than tab.
func validHeaderValue(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool {
		return r < ' ' && r != '\t' || r == 0x7f
	})
}
