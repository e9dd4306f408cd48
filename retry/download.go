package retry

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// File is a download destination: written sequentially, and truncated and
// rewound when a download has to start over. *os.File implements it.
type File interface {
	io.Writer
	io.Seeker
	Truncate(size int64) error
}

// DownloadOptions are the optional checks of a Download.
type DownloadOptions struct {
	// ExpectedSize, if positive, is the exact size of a correct body.
	// A response announcing another size, or a body ending at another
	// size, is corrupt.
	ExpectedSize int64

	// Verify, if not nil, checks the complete body in the destination
	// (for example its hash) and returns an error if it is wrong.
	Verify func(size int64) error

	// OnSize, if not nil, is told the size of the whole body when a
	// response announces it (Content-Length of a 200, the total of a
	// 206's Content-Range), for progress reports.
	OnSize func(size int64)
}

// Download sends the GET request req and streams the body of the response
// into dst, which it first truncates; it never holds the body in memory.
// It returns the body's size.
//
// When reading the body fails in a retryable way, Download resumes where it
// stopped with "Range: bytes=N-" (plus If-Range with the body's strong
// ETag, when it had one). It checks that a 206 answer's Content-Range
// continues at N and describes the same body (same total size, same ETag),
// and starts over from byte 0 after a 200 (the server ignored the range or
// the body changed) or any inconsistency. It asks for
// "Accept-Encoding: identity", so byte offsets are offsets in the body as
// served. Resumes are limited by MaxResumes; attempts without progress by
// MaxAttempts.
//
// If the body fails the checks in opts (nil: none), Download starts over
// once from byte 0; if it fails again, the error has class Corrupt.
// Other errors are *Error, as for GetBytes.
func (c *Client) Download(req *http.Request, dst File, opts *DownloadOptions) (int64, error) {
	c.init()
	if req.Method != "" && req.Method != http.MethodGet {
		return 0, fmt.Errorf("retry: Download needs a GET request, not %s", req.Method)
	}
	d := &download{dst: dst, total: -1, buf: make([]byte, 64<<10)}
	if opts != nil {
		d.opts = *opts
	}
	d.k = c.newCall(req)
	d.k.resumeOffset = func() int64 { return d.offset }
	if err := d.reset(); err != nil {
		return 0, d.k.fail(err)
	}
	req = req.Clone(req.Context())
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Del("Range")
	req.Header.Del("If-Range")
	d.req = req

	resp, err := d.k.run(req, d.receive, d.prepare)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent {
		return 0, d.k.statusFailure(resp)
	}
	d.k.succeed()
	return d.offset, nil
}

type download struct {
	k         *call
	dst       File
	opts      DownloadOptions
	offset    int64  // bytes of the body stored in dst
	total     int64  // size of the whole body, or -1 if unknown
	etag      string // strong ETag of the body being assembled, or ""
	restarted bool   // the one full restart after a failed check is spent
	buf       []byte

	req        *http.Request // the request, for a hedge of a slow body
	bodyHedges int           // hedges of a slow body sent, at most maxHedges
}

// restartError makes the retry policy start the download over from byte 0
// at once, whatever the class of err.
type restartError struct{ err error }

func (e *restartError) Error() string { return e.err.Error() }
func (e *restartError) Unwrap() error { return e.err }

// reset empties the destination, to assemble the body from byte 0.
func (d *download) reset() error {
	d.offset, d.total, d.etag = 0, -1, ""
	if err := d.dst.Truncate(0); err != nil {
		return &localWriteError{err}
	}
	if _, err := d.dst.Seek(0, io.SeekStart); err != nil {
		return &localWriteError{err}
	}
	return nil
}

// prepare is go-retryablehttp's PrepareRetry: it turns the next attempt
// into a resume when part of the body is stored.
func (d *download) prepare(r *http.Request) error {
	r.Header = r.Header.Clone() // retryablehttp's shallow copy shares the map
	if d.offset == 0 {
		r.Header.Del("Range")
		r.Header.Del("If-Range")
		return nil
	}
	if _, err := d.dst.Seek(d.offset, io.SeekStart); err != nil {
		return &localWriteError{err}
	}
	r.Header.Set("Range", "bytes="+strconv.FormatInt(d.offset, 10)+"-")
	if d.etag != "" {
		r.Header.Set("If-Range", d.etag)
	} else {
		r.Header.Del("If-Range")
	}
	d.k.resumes++
	ev := d.k.event()
	ev.Attempt++ // the attempt about to be sent
	ev.Offset = d.offset
	if d.k.c.OnResume != nil {
		d.k.c.OnResume(ev)
	}
	if l := d.k.c.Logger; l != nil {
		l.InfoContext(r.Context(), "resuming", "method", ev.Method, "url", ev.URL, "offset", d.offset, "resume", d.k.resumes)
	}
	return nil
}

// receive is the response handler: it checks that a 200 or 206 answer
// continues the body stored so far and streams it into dst. Other statuses
// are left for the caller.
func (d *download) receive(resp *http.Response) error {
	switch resp.StatusCode {
	case http.StatusOK:
		defer resp.Body.Close()
		if d.offset > 0 {
			// The server ignored the range, or If-Range found the
			// body changed: this is the whole (new) body.
			if err := d.reset(); err != nil {
				return err
			}
		}
		d.total = resp.ContentLength
		d.etag = strongETag(resp.Header.Get("ETag"))
	case http.StatusPartialContent:
		defer resp.Body.Close()
		if err := d.checkRange(resp); err != nil {
			if rerr := d.reset(); rerr != nil {
				return rerr
			}
			return &restartError{err}
		}
	case http.StatusRequestedRangeNotSatisfiable:
		if d.offset == 0 {
			return nil
		}
		// The body shrank below what is stored: it changed.
		resp.Body.Close()
		err := &protocolError{fmt.Sprintf("416 for a range from byte %d: the body changed", d.offset)}
		if rerr := d.reset(); rerr != nil {
			return rerr
		}
		return &restartError{err}
	default:
		return nil
	}
	if d.total >= 0 && d.opts.OnSize != nil {
		d.opts.OnSize(d.total)
	}
	if x := d.opts.ExpectedSize; x > 0 && d.total >= 0 && d.total != x {
		return d.corrupt(fmt.Errorf("%w: server announced %d bytes, want %d", errCorrupt, d.total, x))
	}
	return d.stream(resp.Body)
}

// checkRange validates a 206 answer to "Range: bytes=offset-".
func (d *download) checkRange(resp *http.Response) error {
	cr := resp.Header.Get("Content-Range")
	first, last, total, ok := parseContentRange(cr)
	switch {
	case !ok || first < 0:
		return &protocolError{fmt.Sprintf("invalid Content-Range %q in 206 response", cr)}
	case first != d.offset:
		return &protocolError{fmt.Sprintf("Content-Range %q does not start at byte %d", cr, d.offset)}
	case total >= 0 && last != total-1:
		return &protocolError{fmt.Sprintf("Content-Range %q does not extend to the end of the body", cr)}
	case d.total >= 0 && total >= 0 && total != d.total:
		return &protocolError{fmt.Sprintf("Content-Range %q: body size changed from %d bytes", cr, d.total)}
	case resp.ContentLength >= 0 && resp.ContentLength != last-first+1:
		return &protocolError{fmt.Sprintf("Content-Range %q disagrees with Content-Length %d", cr, resp.ContentLength)}
	}
	if et := strongETag(resp.Header.Get("ETag")); d.etag != "" && et != "" && et != d.etag {
		return &protocolError{fmt.Sprintf("ETag changed from %s to %s while resuming", d.etag, et)}
	}
	if total >= 0 {
		d.total = total
	}
	return nil
}

// stream copies the body into dst at d.offset. A body of known size into
// a destination that can be written at offsets is raced against a second
// request if it proves slow (streamRace).
func (d *download) stream(rc io.ReadCloser) error {
	if wa, ok := d.dst.(io.WriterAt); ok && !d.k.c.HedgeDisabled && !d.k.c.Disabled && d.total > d.offset {
		if err := d.streamRace(rc, wa); err != nil {
			return err
		}
		return d.check()
	}
	start, from := time.Now(), d.offset
	var body io.Reader = rc
	if d.total >= 0 {
		// One byte more than expected, to notice a body that is too long.
		body = io.LimitReader(body, d.total-d.offset+1)
	}
	w := &errWriter{w: d.dst}
	n, err := io.CopyBuffer(w, body, d.buf)
	d.offset += n
	if n > 0 {
		d.k.progressed = true
	}
	switch {
	case w.err != nil:
		return &localWriteError{w.err}
	case err != nil && d.total >= 0 && d.offset == d.total:
		// Every byte arrived and only the end of the exchange failed:
		// resuming would ask for an empty range.
	case err != nil:
		return err
	case d.total >= 0 && d.offset > d.total:
		if rerr := d.reset(); rerr != nil {
			return rerr
		}
		return &restartError{&protocolError{"body longer than announced"}}
	case d.total >= 0 && d.offset < d.total:
		return io.ErrUnexpectedEOF
	}
	d.k.c.throughputFor(d.k.host).observe(d.offset-from, time.Since(start))
	return d.check()
}

// check applies the caller's checks to the complete body.
func (d *download) check() error {
	if x := d.opts.ExpectedSize; x > 0 && d.offset != x {
		return d.corrupt(fmt.Errorf("%w: got %d bytes, want %d", errCorrupt, d.offset, x))
	}
	if d.opts.Verify != nil {
		if err := d.opts.Verify(d.offset); err != nil {
			return d.corrupt(fmt.Errorf("%w: %w", errCorrupt, err))
		}
	}
	return nil
}

// corrupt starts the download over the first time a check fails, and
// gives up the second time.
func (d *download) corrupt(err error) error {
	if d.restarted {
		return err
	}
	d.restarted = true
	if rerr := d.reset(); rerr != nil {
		return rerr
	}
	return &restartError{err}
}

// errWriter hides dst's ReadFrom, so that io.CopyBuffer uses the download's
// buffer, and records write errors apart from read errors.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, err
}

// strongETag returns a strong entity tag, or "" for a weak or malformed one,
// which If-Range may not use (RFC 9110, section 13.1.5).
func strongETag(v string) string {
	v = strings.TrimSpace(v)
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' || strings.Contains(v[1:len(v)-1], `"`) {
		return ""
	}
	return v
}

// parseContentRange parses a Content-Range value of a 206 or 416 response
// (RFC 9110, section 14.4): "bytes first-last/total", where total may be
// "*", or "bytes */total". Missing parts are -1. ok is false for anything
// else, including first > last, last >= total and numbers that overflow.
func parseContentRange(v string) (first, last, total int64, ok bool) {
	rest, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return 0, 0, 0, false
	}
	rng, tot, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, 0, false
	}
	total = -1
	if tot != "*" {
		if total, ok = parseUint(tot); !ok {
			return 0, 0, 0, false
		}
	}
	if rng == "*" {
		if total < 0 {
			return 0, 0, 0, false // "*/*" says nothing
		}
		return -1, -1, total, true
	}
	a, b, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, 0, false
	}
	if first, ok = parseUint(a); !ok {
		return 0, 0, 0, false
	}
	if last, ok = parseUint(b); !ok {
		return 0, 0, 0, false
	}
	if first > last || (total >= 0 && last >= total) {
		return 0, 0, 0, false
	}
	return first, last, total, true
}

// parseUint accepts only ASCII digits, unlike strconv, which also takes a
// sign or underscores in some modes.
func parseUint(s string) (int64, bool) {
	if !isDigits(s) {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
