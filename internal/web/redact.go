package web

import (
	"net/url"
	"strings"
)

// hidden replaces the user information of a redacted URL.
const hidden = "xxxxx"

// Redact returns rawURL for messages, logs and JSON, with its whole user
// information (user name and password) replaced by "xxxxx". A URL that
// does not parse is redacted too: everything before the last '@' of its
// authority goes. An '@' elsewhere, such as in a proxy path's /@v/, is
// kept.
func Redact(rawURL string) string {
	if !strings.Contains(rawURL, "@") {
		return rawURL
	}
	if u, err := url.Parse(rawURL); err == nil && u.Opaque == "" {
		if u.User != nil {
			return RedactURL(u)
		}
		if u.Scheme != "" || u.Host != "" {
			return rawURL
		}
	}
	// Unparsable, opaque ("user:password@host" parses as the scheme "user"
	// and an opaque rest), or without a scheme ("token@host/path", which
	// the go command completes with https://): hide everything up to the
	// authority's last '@'.
	start := 0
	if i := strings.Index(rawURL, "://"); i >= 0 {
		start = i + len("://")
	}
	end := len(rawURL)
	if i := strings.IndexAny(rawURL[start:], "/?#"); i >= 0 {
		end = start + i
	}
	if at := strings.LastIndexByte(rawURL[start:end], '@'); at >= 0 {
		return rawURL[:start] + hidden + rawURL[start+at:]
	}
	return rawURL
}

// RedactURL is Redact for a parsed URL; a nil URL is "".
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	if u.User == nil {
		return u.String()
	}
	r := *u
	r.User = url.User(hidden)
	return r.String()
}

// RedactList redacts every URL in a list-valued setting such as GOPROXY,
// GOSUMDB or NO_PROXY, whose entries are separated by ',', '|', spaces or
// tabs; the separators are kept.
func RedactList(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexAny(s, ",| \t")
		if i < 0 {
			b.WriteString(Redact(s))
			return b.String()
		}
		b.WriteString(Redact(s[:i]))
		b.WriteByte(s[i])
		s = s[i+1:]
	}
}

// RedactError redacts the URL of a *url.Error, which net/http's Client
// returns with only the password hidden; the error it wraps is kept, so
// errors.Is and errors.As see through as before. Other errors are
// returned as they are.
func RedactError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return &url.Error{Op: ue.Op, URL: Redact(ue.URL), Err: ue.Err}
	}
	return err
}
