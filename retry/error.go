package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrBudgetExhausted is matched (errors.Is) by the error returned when a
// retry was needed but the host's [Budget] had no tokens left.
var ErrBudgetExhausted = errors.New("retry budget exhausted")

// ErrRetryAfterTooLong is matched (errors.Is) by the error returned when a
// server's Retry-After asked for a longer wait than Client.RetryAfterMax:
// failing at once lets the caller try another source instead of sleeping.
var ErrRetryAfterTooLong = errors.New("Retry-After exceeds RetryAfterMax")

// Error describes a request that failed after the Client stopped trying.
// It matches fs.ErrNotExist (errors.Is) when the server answered 404 or
// 410, exactly as the go command decides GOPROXY fallback
// (cmd/go/internal/web, HTTPError.Is).
type Error struct {
	Method     string        // request method
	URL        string        // request URL, user information redacted (user name too: tokens are often passed as one)
	Class      Class         // why the last attempt failed
	StatusCode int           // the HTTP status, when the failure is an error status; else 0
	Status     string        // the status text with its code, such as "404 Not Found", when StatusCode is set
	Detail     string        // the server's plain-text explanation of an error status, at most 8 short lines, or ""
	Attempts   int           // requests sent, including resumes and restarts
	Resumes    int           // downloads only: times the body was resumed with a Range request
	Elapsed    time.Duration // time from the first attempt until giving up
	Err        error         // the cause; for policy stops it also wraps ErrBudgetExhausted or ErrRetryAfterTooLong
}

// Error says what failed and where, why, and how hard the Client tried:
// "GET <url>: <cause> (<n> attempts in <elapsed>)", followed by the
// server's explanation on an indented line when it sent one.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %v", e.Method, e.URL, e.Err)
	if e.Attempts > 1 || e.Resumes > 0 {
		fmt.Fprintf(&b, " (%d attempts", e.Attempts)
		if e.Resumes > 0 {
			fmt.Fprintf(&b, ", %d resumes", e.Resumes)
		}
		fmt.Fprintf(&b, " in %v)", e.Elapsed.Round(time.Millisecond))
	}
	if e.Detail != "" {
		// The same shape as the go command's HTTPError, so users see the
		// proxy's explanation where they are used to finding it.
		sep := " "
		if strings.Contains(e.Detail, "\n") {
			sep = "\n\t"
		}
		b.WriteString("\n\tserver response:" + sep + e.Detail)
	}
	return b.String()
}

// Unwrap returns e.Err.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether e means "does not exist": HTTP 404 or 410.
func (e *Error) Is(target error) bool {
	return target == fs.ErrNotExist && e.Class == NotFound
}

// statusError is the cause recorded for an HTTP error status.
type statusError struct{ status string }

func (e *statusError) Error() string { return e.status }

func newStatusError(resp *http.Response) *statusError {
	s := resp.Status
	if s == "" {
		s = fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return &statusError{s}
}

// stopError explains why retrying stopped although the failure was
// retryable; it wraps the sentinel (if any) and the last failure.
type stopError struct {
	reason string
	kind   error // ErrBudgetExhausted, ErrRetryAfterTooLong or nil
	last   error
}

func (e *stopError) Error() string { return fmt.Sprintf("%v; not retrying: %s", e.last, e.reason) }

func (e *stopError) Unwrap() []error {
	if e.kind == nil {
		return []error{e.last}
	}
	return []error{e.kind, e.last}
}

// timeoutError reports a per-attempt limit that this package enforces
// (response headers, body stall). It is a net.Error timeout and matches
// context.DeadlineExceeded, like the timeouts of net/http.
type timeoutError struct {
	what string
	d    time.Duration
}

func (e *timeoutError) Error() string   { return fmt.Sprintf("%s for %v", e.what, e.d) }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }
func (e *timeoutError) Is(target error) bool {
	return target == context.DeadlineExceeded
}

// redirectError marks an error returned by the redirect policy, so that
// Classify does not mistake the user's reason for a network failure.
type redirectError struct{ err error }

func (e *redirectError) Error() string { return e.err.Error() }
func (e *redirectError) Unwrap() error { return e.err }

// protocolError marks an answer that breaks the HTTP contract.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return e.msg }

// localWriteError marks a failure to write to a download's destination.
type localWriteError struct{ err error }

func (e *localWriteError) Error() string { return "writing download: " + e.err.Error() }
func (e *localWriteError) Unwrap() error { return e.err }

var (
	errCorrupt  = errors.New("corrupt download")
	errTooLarge = errors.New("response body too large")
)

// causeOf strips net/http's *url.Error, whose text repeats the method and
// URL that *Error already prints (with the password only partly hidden).
func causeOf(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

const (
	maxDetailLines = 8
	maxDetailBytes = maxDetailLines * 81
)

// readDetail reads a short plain-text explanation from an error response,
// as the go command shows under "server response:" (cmd/go/internal/web,
// Response.formatErrorDetail): only text/plain in ASCII or UTF-8.
func readDetail(resp *http.Response) string {
	mt, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "text/plain" {
		return ""
	}
	switch strings.ToLower(params["charset"]) {
	case "", "us-ascii", "utf-8":
	default:
		return ""
	}
	// One byte past the limit, so that an overlong body is detected below.
	buf, _ := io.ReadAll(io.LimitReader(resp.Body, maxDetailBytes+1))
	return FormatDetail(string(buf))
}

// FormatDetail formats the start of a plain-text error body the way the go
// command shows it under "server response:" (cmd/go/internal/web,
// Response.formatErrorDetail): lines up to the first blank one, joined with
// "\n\t", at most 8 lines and about 650 bytes with a "[Truncated: ...]"
// note, and nothing at all if the text is not valid UTF-8 or holds control
// characters, which would let a server write to the user's terminal.
func FormatDetail(text string) string {
	if !utf8.ValidString(text) {
		return ""
	}
	for _, r := range text {
		if !unicode.IsGraphic(r) && !unicode.IsSpace(r) {
			return ""
		}
	}
	var b strings.Builder
	for i, line := range strings.Split(text, "\n") {
		// Unlike the go command, drop the '\r' of CRLF lines, which would
		// return the terminal's cursor mid-message.
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			break
		}
		if i > 0 {
			b.WriteString("\n\t")
		}
		if i >= maxDetailLines {
			b.WriteString("[Truncated: too many lines.]")
			break
		}
		if b.Len()+len(line) > maxDetailBytes {
			b.WriteString("[Truncated: too long.]")
			break
		}
		b.WriteString(line)
	}
	return b.String()
}
