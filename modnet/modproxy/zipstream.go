package modproxy

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"

	"golang.org/x/mod/module"
	"golang.org/x/sync/singleflight"

	"github.com/modkit/modkit/modnet"
)

// Streaming zips. Without Verify, a zip is passed on to the requests
// waiting for it while it arrives from upstream, rather than after the
// whole of it is stored: the go command hashes and extracts a zip as it
// reads it, so its work overlaps the transfer instead of following it.
//
// One zipFill per zip in flight: the upstream transfer writes a temporary
// file (resumes continue it, a transfer starting over truncates it), every
// request joined to the fill reads that file from offset 0 as its bytes
// land, and once the transfer is complete and checked the file is stored,
// as a zip that is not streamed is. A request never sends a byte twice,
// nor one the fill might take back: when a transfer starts over below what
// a request has sent, the request re-reads the new body up to there and
// goes on only if it is the same. When the new body differs, or the
// transfer fails for good after the request's first byte, the request's
// response is aborted, so that its client sees a broken transfer rather
// than a short or spliced zip; the store never holds a part, and the next
// request starts a fresh fill. The last byte of a zip of announced size is
// held back until the transfer has been checked, so that a client reading
// to Content-Length cannot take a zip for complete before the server does.
//
// With Verify, a zip is verified whole before a byte of it is served, and
// goes through fetchFile like the other files.

// zipFill is one zip being fetched into a temporary file for the requests
// that wait for it. Its fields are guarded by mu.
type zipFill struct {
	ahead bool          // started by read-ahead
	done  chan struct{} // closed when the fill is over: stored, or failed

	mu    sync.Mutex
	wake  chan struct{} // closed at the next change, if someone waits
	f     *os.File      // the temporary file, nil until it exists
	refs  int           // holders of f: the fill and reading requests
	valid int64         // bytes [0, valid) of f are the zip's
	size  int64         // the whole zip's size, or -1 if not known
	gen   int           // counts truncations below valid
	// complete says f holds the whole zip, checked: it only grows no more.
	complete bool
	over     bool  // the fill is over (done is closed)
	err      error // the fill's failure, once over
}

// startZip starts fetching mod's zip into the store under key, unless a
// fetch of it is in flight, and returns the fill that does it; ahead says
// the caller is read-ahead.
func (s *Server) startZip(ctx context.Context, mod module.Version, key string, ahead bool) *zipFill {
	s.init()
	s.zipMu.Lock()
	if z := s.zips[key]; z != nil {
		s.zipMu.Unlock()
		return z
	}
	z := &zipFill{ahead: ahead, done: make(chan struct{}), size: -1}
	if s.zips == nil {
		s.zips = make(map[string]*zipFill)
	}
	s.zips[key] = z
	s.zipMu.Unlock()

	wctx, end, err := s.work(ctx)
	if err != nil {
		s.endZip(key, z, err)
		return z
	}
	go func() {
		defer end()
		err := s.fillZip(wctx, z, mod, key)
		if err == nil && ahead {
			s.ahead.filled.Store(key, true)
		}
		s.endZip(key, z, err)
	}()
	return z
}

// endZip ends z's fill with err: from now on a request for key starts a
// fresh fill (or finds key stored).
func (s *Server) endZip(key string, z *zipFill, err error) {
	s.zipMu.Lock()
	if s.zips[key] == z {
		delete(s.zips, key)
	}
	s.zipMu.Unlock()
	z.mu.Lock()
	z.over, z.err = true, err
	z.notify()
	z.mu.Unlock()
	close(z.done)
}

// fillZip fetches mod's zip into a temporary file that z's requests read
// as it grows, and stores it once it is complete.
func (s *Server) fillZip(ctx context.Context, z *zipFill, mod module.Version, key string) error {
	// Another instance sharing the store may have been first.
	if _, err := s.store.Stat(ctx, key); err == nil {
		return nil
	}
	f, err := os.CreateTemp(s.TempDir, "modproxy-*.zip")
	if err != nil {
		return &storeError{fmt.Errorf("creating a temporary file for %s: %w", key, err)}
	}
	z.mu.Lock()
	z.f, z.refs = f, 1
	z.mu.Unlock()
	defer z.release()
	progress := &modnet.ZipProgress{Written: z.written, Truncated: z.truncated, Sized: z.sized}
	if err := s.up.FetchZip(ctx, mod.Path, mod.Version, f, progress); err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		return &storeError{err}
	}
	z.mu.Lock()
	z.valid, z.complete = fi.Size(), true
	z.notify()
	z.mu.Unlock()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return &storeError{err}
	}
	return s.put(ctx, key, f)
}

// notify wakes whoever waits for a change; z.mu is held.
func (z *zipFill) notify() {
	if z.wake != nil {
		close(z.wake)
		z.wake = nil
	}
}

// changed returns a channel closed at the next change; z.mu is held.
func (z *zipFill) changed() <-chan struct{} {
	if z.wake == nil {
		z.wake = make(chan struct{})
	}
	return z.wake
}

// written, truncated and sized are z's modnet.ZipProgress.
func (z *zipFill) written(off int64, n int) {
	z.mu.Lock()
	// Writes continue the valid prefix: a resume at its end, the racing
	// copy of a hedged body at or before it.
	if end := off + int64(n); off <= z.valid && end > z.valid {
		z.valid = end
		z.notify()
	}
	z.mu.Unlock()
}

func (z *zipFill) truncated(size int64) {
	z.mu.Lock()
	if size < z.valid {
		z.valid = size
		z.gen++
		z.notify()
	}
	z.size = -1 // a transfer that starts over announces its size again
	z.mu.Unlock()
}

func (z *zipFill) sized(size int64) {
	z.mu.Lock()
	z.size = size
	z.mu.Unlock()
}

// acquire takes a hold on z's file for a reader, if it is still open.
func (z *zipFill) acquire() bool {
	if z.f == nil || z.refs == 0 {
		return false
	}
	z.refs++
	return true
}

// release gives up a hold on z's file: the last one closes and removes it
// (the store has its own copy or link by then).
func (z *zipFill) release() {
	z.mu.Lock()
	z.refs--
	last := z.refs == 0
	f := z.f
	z.mu.Unlock()
	if last {
		f.Close()
		os.Remove(f.Name())
	}
}

// errZipChanged is the failure of a response aborted because the zip's
// upstream transfer started over after part of it was sent, and the new
// body is not the one whose start was sent.
var errZipChanged = errors.New("the zip changed upstream while it was sent: its transfer started over with other bytes")

// result returns a channel that receives z's failure (nil if the zip is
// stored) once its fill is over.
func (z *zipFill) result() <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- waitZip(context.Background(), z) }()
	return ch
}

// fillResult returns a channel that receives the failure of a fill once
// it is over.
func fillResult(ch <-chan singleflight.Result) <-chan error {
	out := make(chan error, 1)
	go func() { out <- (<-ch).Err }()
	return out
}

// waitZip waits for z's fill to be over, as a request that is not
// streamed does, and returns its failure.
func waitZip(ctx context.Context, z *zipFill) error {
	select {
	case <-z.done:
		z.mu.Lock()
		defer z.mu.Unlock()
		return z.err
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// serveZip answers a request for the zip under key from the fill z, as
// its bytes arrive. It reports false, having written nothing, if the fill
// ended without a temporary file to read (the store had the zip, or the
// fetch failed before it began): the caller then answers as for a fill
// that is over.
//
// When the transfer starts over after part of the zip was sent (a server
// that ignores ranges answers a resume with the whole body), the request
// reads the new body again up to what it sent, and goes on only if those
// bytes hash the same as the ones sent; it hashes what it sends with
// hash/maphash for that, which costs far less than the copy.
func (s *Server) serveZip(w *recorder, r *http.Request, z *zipFill, key, from string) bool {
	var (
		pos     int64      // offset of the next read
		sent    int64      // bytes sent: pos < sent while re-reading a new body
		length  int64 = -1 // the Content-Length sent, if any
		gen     int
		started bool // the status and headers are written
		held    bool // a hold on z's file is taken
		buf     []byte
		sum     maphash.Hash // of the bytes sent
		again   maphash.Hash // of the new body's bytes re-read
	)
	again.SetSeed(sum.Seed())
	defer func() {
		if held {
			z.release()
		}
	}()
	abort := func(err error) {
		// The status line is out, so the only way to tell the client is
		// to break the response; net/http recovers ErrAbortHandler
		// quietly.
		w.status, w.err = http.StatusBadGateway, err
		s.logger().Warn("aborting a zip response after its start", "key", key, "sent", sent, "error", err)
		panic(http.ErrAbortHandler)
	}
	rc := http.NewResponseController(w)
	for {
		z.mu.Lock()
		if !held {
			if !z.acquire() {
				over, err := z.over, z.err
				if !over {
					// The file does not exist yet.
					wake := z.changed()
					z.mu.Unlock()
					select {
					case <-wake:
						continue
					case <-r.Context().Done():
						return true
					}
				}
				z.mu.Unlock()
				if err != nil {
					s.fail(w, r, err)
					return true
				}
				return false
			}
			held, gen = true, z.gen
		}
		if z.gen != gen {
			gen = z.gen
			pos = 0
			again.Reset()
		}
		limit := z.valid
		if !z.complete && z.size > 0 {
			limit = min(limit, z.size-1)
		}
		if pos < sent {
			limit = min(limit, sent)
		}
		if limit <= pos {
			complete, over, err := z.complete, z.over, z.err
			var wake <-chan struct{}
			if !complete && !over {
				wake = z.changed()
			}
			z.mu.Unlock()
			switch {
			case complete && (pos < sent || length >= 0 && sent != length):
				abort(errZipChanged)
			case complete:
				if !started {
					// An empty zip: nothing to stream.
					s.writeZipHeader(w, key, 0)
				}
				return true
			case over && err == nil:
				// Not reached: a fill with a file that succeeded is
				// complete. Answer from the store.
				return started
			case over && !started:
				s.fail(w, r, err)
				return true
			case over:
				abort(err)
			}
			if started {
				// What is sent so far must not wait in a buffer while
				// the rest is on its way.
				rc.Flush()
			}
			select {
			case <-wake:
			case <-r.Context().Done():
				return true
			}
			continue
		}
		size := z.size
		if z.complete {
			size = z.valid
		}
		z.mu.Unlock()

		if buf == nil {
			buf = make([]byte, 128<<10)
		}
		n, err := z.f.ReadAt(buf[:min(int64(len(buf)), limit-pos)], pos)
		// The bytes read are used only if no truncation may have replaced
		// them while they were read; bytes reported written are in the
		// file unless one did.
		z.mu.Lock()
		same := z.gen == gen
		z.mu.Unlock()
		switch {
		case !same:
			continue
		case n == 0 && started:
			abort(err)
		case n == 0:
			s.fail(w, r, &storeError{fmt.Errorf("reading %s as it arrives: %w", key, err)})
			return true
		case pos < sent:
			again.Write(buf[:n])
			pos += int64(n)
			if pos == sent && again.Sum64() != sum.Sum64() {
				abort(errZipChanged)
			}
			continue
		case length >= 0 && size >= 0 && size != length:
			abort(errZipChanged)
		}
		if !started {
			w.from = from
			s.writeZipHeader(w, key, size)
			started, length = true, size
		}
		if _, err := w.Write(buf[:n]); err != nil {
			return true // the client is gone; the fill goes on for the others
		}
		sum.Write(buf[:n])
		sent += int64(n)
		pos = sent
	}
}

// writeZipHeader starts the answer of a streamed zip of size bytes (-1:
// not known), with the headers serveStored gives a stored one.
func (s *Server) writeZipHeader(w *recorder, key string, size int64) {
	h := w.Header()
	h.Set("Content-Type", typeZip)
	h.Set("Cache-Control", cacheImmutable)
	if size >= 0 {
		// The client can tell a truncated body from a complete one.
		h.Set("Content-Length", strconv.FormatInt(size, 10))
		h.Set("ETag", etag(key+"\x00"+strconv.FormatInt(size, 10)))
	}
	w.WriteHeader(http.StatusOK)
}

// streamable reports whether r is answered by streaming a zip that is on
// its way: a plain GET. A HEAD, a range request and a conditional request
// wait for the stored zip, whose size and modification time answer them.
func streamable(r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false
	}
	for _, h := range []string{"Range", "If-Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"} {
		if r.Header.Get(h) != "" {
			return false
		}
	}
	return true
}
