package modnettest

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

var (
	errInjectedCut = errors.New("modnettest: body cut by an injected fault")
	errAborted     = errors.New("modnettest: answer abandoned: client gone or server closing")
)

// wait waits for d, or forever if d is zero. It reports false if the client
// went away or the server began closing first, so that no stalled handler
// outlives either.
func (s *Server) wait(r *http.Request, d time.Duration) bool {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-timeout:
		return true
	case <-r.Context().Done():
		return false
	case <-s.closing:
		return false
	}
}

// faultWriter is the ResponseWriter the handlers write to. It records the
// status and body size for the log and applies the faults that act on the
// body: cuts, mid-body stalls and bandwidth limits.
type faultWriter struct {
	http.ResponseWriter
	s         *Server
	r         *http.Request
	fault     Fault
	bandwidth int64
	noRange   bool // the request's Range was dropped

	wroteHeader bool
	status      int
	bytes       int64
	limit       int64 // body bytes to send before the cut or stall, or -1
	tripped     bool  // the cut or stall happened
	aborted     bool  // the connection must be dropped
	hijacked    bool
}

func (fw *faultWriter) Unwrap() http.ResponseWriter { return fw.ResponseWriter }

func (fw *faultWriter) WriteHeader(code int) {
	if fw.wroteHeader {
		return
	}
	if fw.noRange && fw.Header().Get("Accept-Ranges") == "bytes" {
		fw.Header().Set("Accept-Ranges", "none")
	}
	fw.wroteHeader, fw.status, fw.limit = true, code, -1
	if k := fw.fault.Kind; k == FaultCut || k == FaultStallBody {
		// A cut means something only against a declared length: the client
		// must be able to tell that bytes are missing.
		if cl, err := strconv.ParseInt(fw.Header().Get("Content-Length"), 10, 64); err == nil && cl > 0 {
			after := fw.fault.After
			if after == Half {
				after = cl / 2
			}
			fw.limit = max(0, min(after, cl-1))
		}
	}
	fw.ResponseWriter.WriteHeader(code)
}

func (fw *faultWriter) Write(p []byte) (int, error) {
	if !fw.wroteHeader {
		fw.WriteHeader(http.StatusOK)
	}
	if fw.aborted {
		return 0, errAborted
	}
	total := 0
	for len(p) > 0 {
		if fw.limit >= 0 && !fw.tripped && fw.bytes == fw.limit {
			fw.tripped = true
			fw.flush()
			if fw.fault.Kind == FaultCut {
				fw.aborted = true
				return total, errInjectedCut
			}
			if !fw.s.wait(fw.r, fw.fault.Duration) {
				fw.aborted = true
				return total, errAborted
			}
		}
		chunk := p
		if fw.limit >= 0 && !fw.tripped {
			chunk = chunk[:min(int64(len(chunk)), fw.limit-fw.bytes)]
		}
		if fw.bandwidth > 0 {
			chunk = chunk[:min(len(chunk), bandwidthChunk(fw.bandwidth))]
		}
		n, err := fw.ResponseWriter.Write(chunk)
		fw.bytes += int64(n)
		total += n
		p = p[n:]
		if err != nil {
			return total, err
		}
		if fw.bandwidth > 0 {
			fw.flush()
			if d := time.Duration(n) * time.Second / time.Duration(fw.bandwidth); d > 0 && !fw.s.wait(fw.r, d) {
				fw.aborted = true
				return total, errAborted
			}
		}
	}
	return total, nil
}

// ReadFrom sends a body no fault acts on the way the ResponseWriter
// sends it (from a file, with sendfile), so that serving a large tree
// costs the benchmarks' shared cores little; otherwise it writes through
// Write, where cuts, stalls and bandwidth limits apply.
func (fw *faultWriter) ReadFrom(r io.Reader) (int64, error) {
	if !fw.wroteHeader {
		fw.WriteHeader(http.StatusOK)
	}
	if rf, ok := fw.ResponseWriter.(io.ReaderFrom); ok && fw.limit < 0 && fw.bandwidth <= 0 && !fw.aborted {
		n, err := rf.ReadFrom(r)
		fw.bytes += n
		return n, err
	}
	return io.Copy(writeOnly{fw}, r)
}

// writeOnly hides a writer's ReadFrom from io.Copy.
type writeOnly struct{ io.Writer }

// bandwidthChunk sizes writes so a throttled body arrives in about ten
// pieces a second: smooth enough for progress and stall detectors to see.
func bandwidthChunk(bytesPerSecond int64) int {
	return int(max(512, min(32<<10, bytesPerSecond/10)))
}

func (fw *faultWriter) flush() {
	_ = http.NewResponseController(fw.ResponseWriter).Flush()
}

// abort drops the connection without finishing the answer: the client sees
// EOF before the end of the headers or of the declared body. Returning from
// the handler instead would make net/http send a 200 with an empty body, or
// linger before closing.
func (fw *faultWriter) abort() {
	fw.aborted = true
	if fw.hijacked {
		return
	}
	if fw.wroteHeader {
		fw.flush()
	}
	conn, _, err := http.NewResponseController(fw.ResponseWriter).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	fw.hijacked = true
	conn.Close()
}

// reset closes the connection with a TCP RST before answering, so the
// client's read fails with ECONNRESET rather than EOF.
func (fw *faultWriter) reset() {
	fw.aborted = true
	conn, _, err := http.NewResponseController(fw.ResponseWriter).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	fw.hijacked = true
	c := conn
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if tcp, ok := c.(*net.TCPConn); ok {
		// Linger 0 makes close send RST and discard unsent data.
		_ = tcp.SetLinger(0)
	}
	c.Close()
}

// content is a file the server answers with.
type content struct {
	body        io.ReadSeeker
	closer      io.Closer
	contentType string
	etag        string
	modTime     time.Time
}

func bytesContent(b []byte, kind FileKind, modTime time.Time) *content {
	return &content{body: bytes.NewReader(b), contentType: contentType(kind), modTime: modTime}
}

// contentType returns the media type proxies commonly send for a kind of
// file; the go command itself ignores it.
func contentType(kind FileKind) string {
	switch kind {
	case KindInfo, KindLatest:
		return "application/json"
	case KindZip:
		return "application/zip"
	}
	return "text/plain; charset=utf-8"
}

func (c *content) Close() error {
	if c.closer != nil {
		return c.closer.Close()
	}
	return nil
}

// corrupt flips all bits of the middle byte of the whole file, before any
// Range is applied, so ranged requests see the same corrupt file. The ETag
// stays the honest one, as it would behind a faulty middlebox.
func (c *content) corrupt() error {
	b, err := io.ReadAll(c.body)
	if err != nil {
		return err
	}
	b = bytes.Clone(b)
	if len(b) > 0 {
		b[len(b)/2] ^= 0xff
	}
	c.body = bytes.NewReader(b)
	return nil
}
