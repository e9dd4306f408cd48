package modproxy

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/modkit/modkit/modnet/modnettest"
)

// bigModule has a zip of about 300 kB that does not compress, so that it
// arrives in many reads.
var bigModule = func() modnettest.Module {
	b := make([]byte, 150<<10)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return modnettest.Module{Path: "example.com/big", Version: "v1.0.0",
		Files: map[string]string{"big.go": "package big\n", "data.txt": hex.EncodeToString(b)}}
}()

const bigZipPath = "/example.com/big/@v/v1.0.0.zip"

// gatedZips is an upstream transport for the proxy's client: the body of
// a zip answer stops after its first `after` bytes (all of them if
// negative) until release is called, and a request with a Range header
// (a resume) is not sent until then.
type gatedZips struct {
	after   int64
	gate    chan struct{}
	once    sync.Once
	reached chan struct{} // closed when a body has sent its first part
	reach   sync.Once
}

func newGatedZips(after int64) *gatedZips {
	return &gatedZips{after: after, gate: make(chan struct{}), reached: make(chan struct{})}
}

func (g *gatedZips) release() { g.once.Do(func() { close(g.gate) }) }

func (g *gatedZips) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(req.URL.Path, ".zip") {
		return http.DefaultTransport.RoundTrip(req)
	}
	if req.Header.Get("Range") != "" {
		select {
		case <-g.gate:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || g.after < 0 {
		return resp, err
	}
	resp.Body = &gatedBody{ReadCloser: resp.Body, g: g, left: g.after, ctx: req.Context()}
	return resp, nil
}

type gatedBody struct {
	io.ReadCloser
	g    *gatedZips
	left int64 // bytes before the gate
	ctx  context.Context
}

func (b *gatedBody) Read(p []byte) (int, error) {
	if b.left == 0 {
		b.g.reach.Do(func() { close(b.g.reached) })
		select {
		case <-b.g.gate:
		case <-b.ctx.Done():
			return 0, b.ctx.Err()
		}
		return b.ReadCloser.Read(p)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// streamProxy is a test proxy of bigModule whose upstream transport is g.
//
// The answers function returns the first n answers once they are logged,
// which happens after the handler is done, so after the client may have
// read the whole body.
func streamProxy(t *testing.T, g *gatedZips, faults modnettest.Faults) (p *testProxy, zip []byte, answers func(n int) []Answer) {
	t.Helper()
	upstream := modnettest.NewServer(bigModule)
	t.Cleanup(upstream.Close)
	upstream.SetFaults(faults)
	hc := fastRetries()
	hc.Transport = g
	logged := make(chan Answer, 100)
	p = newTestProxyConfig(t, upstream, hc, func(s *Server, _ map[string]string) {
		s.OnAnswer = func(a Answer) { logged <- a }
	})
	var got []Answer
	return p, mustZip(t, bigModule), func(n int) []Answer {
		for len(got) < n {
			got = append(got, <-logged)
		}
		return slices.Clone(got[:n])
	}
}

// getZip starts a GET of the big zip and returns the response, its body
// still to be read.
func getZip(t *testing.T, p *testProxy) *http.Response {
	t.Helper()
	resp, err := http.Get(p.URL + bigZipPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// readPart reads the first n bytes of a body and checks them against want.
func readPart(t *testing.T, body io.Reader, n int, want []byte) {
	t.Helper()
	got := make([]byte, n)
	if _, err := io.ReadFull(body, got); err != nil {
		t.Fatalf("reading the first %d bytes: %v", n, err)
	}
	if !bytes.Equal(got, want[:n]) {
		t.Fatalf("the first %d bytes differ from the zip's", n)
	}
}

// bigZipFill returns the fill of the big zip in flight.
func bigZipFill(p *testProxy) *zipFill {
	p.s.zipMu.Lock()
	defer p.s.zipMu.Unlock()
	return p.s.zips[strings.TrimPrefix(bigZipPath, "/")]
}

// storedZip reports whether the proxy's store holds the big zip.
func storedZip(t *testing.T, p *testProxy) bool {
	t.Helper()
	_, err := p.s.store.Stat(context.Background(), strings.TrimPrefix(bigZipPath, "/"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// TestZipStreamsAsItArrives: the first bytes of a zip reach the client
// while upstream still holds the rest of the body, with the zip's
// Content-Length; the whole zip arrives and is then stored.
func TestZipStreamsAsItArrives(t *testing.T) {
	g := newGatedZips(100 << 10)
	p, want, answers := streamProxy(t, g, modnettest.Faults{})
	resp := getZip(t, p)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Length") != strconv.Itoa(len(want)) {
		t.Fatalf("status %d, Content-Length %q; want 200, %d", resp.StatusCode, resp.Header.Get("Content-Length"), len(want))
	}
	// The gate is still closed: these bytes were streamed.
	readPart(t, resp.Body, 100<<10, want)
	if storedZip(t, p) {
		t.Errorf("the zip is stored before its body arrived")
	}
	z := bigZipFill(p)
	g.release()
	rest, err := io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(append(want[:100<<10:100<<10], rest...), want) {
		t.Fatalf("the rest of the zip: %d bytes, %v; want %d bytes", len(rest), err, len(want)-100<<10)
	}
	resp.Body.Close()

	// Once the fill is over, the next request is answered from the store,
	// byte for byte the same.
	<-z.done
	_, body := p.get(bigZipPath)
	if !bytes.Equal(body, want) {
		t.Errorf("stored zip differs")
	}
	if n := p.upstream.Requests(); len(zipRequests(n)) != 1 {
		t.Errorf("upstream zip requests: %s, want one", n)
	}
	if a := answers(2); len(a) != 2 || a[0].From != "upstream" || a[0].Bytes != int64(len(want)) || a[1].From != "store" {
		t.Errorf("answers %+v, want the zip from upstream, then from the store", a)
	}
}

func zipRequests(reqs []modnettest.Request) []modnettest.Request {
	var zips []modnettest.Request
	for _, r := range reqs {
		if r.Kind == modnettest.KindZip {
			zips = append(zips, r)
		}
	}
	return zips
}

// TestZipStreamSharedFromStart: a request that joins a zip in flight gets
// it from byte 0, both get identical bytes from one upstream fetch, and a
// client that goes away stops neither the other nor the store.
func TestZipStreamSharedFromStart(t *testing.T) {
	g := newGatedZips(100 << 10)
	p, want, _ := streamProxy(t, g, modnettest.Faults{})
	a := getZip(t, p)
	readPart(t, a.Body, 50<<10, want)
	b := getZip(t, p)
	readPart(t, b.Body, 100<<10, want)
	c := getZip(t, p)
	readPart(t, c.Body, 10<<10, want)
	c.Body.Close() // gone
	z := bigZipFill(p)
	g.release()
	restA, errA := io.ReadAll(a.Body)
	restB, errB := io.ReadAll(b.Body)
	if errA != nil || errB != nil || !bytes.Equal(restA, want[50<<10:]) || !bytes.Equal(restB, want[100<<10:]) {
		t.Errorf("rest of the zip: %d bytes, %v and %d bytes, %v; want all of it", len(restA), errA, len(restB), errB)
	}
	if n := p.upstream.Requests(); len(zipRequests(n)) != 1 {
		t.Errorf("upstream zip requests: %s, want one", n)
	}
	<-z.done
	_, body := p.get(bigZipPath)
	if !bytes.Equal(body, want) || !storedZip(t, p) {
		t.Errorf("the zip is not stored whole after a client went away")
	}
}

// TestZipStreamResumes: a body cut after part of it was streamed is
// resumed upstream with Range, and the client gets the zip byte for byte,
// nothing sent twice.
func TestZipStreamResumes(t *testing.T) {
	g := newGatedZips(-1)
	p, want, _ := streamProxy(t, g, modnettest.Faults{Rules: []modnettest.Rule{
		{Kind: modnettest.KindZip, First: 1, Fault: modnettest.Cut(modnettest.Half)},
	}})
	resp := getZip(t, p)
	// The resume waits for the gate: these bytes came before the cut.
	part := len(want) / 4 // of the half sent before the cut
	readPart(t, resp.Body, part, want)
	z := bigZipFill(p)
	g.release()
	rest, err := io.ReadAll(resp.Body)
	<-z.done
	if err != nil || !bytes.Equal(rest, want[part:]) {
		t.Fatalf("rest of the zip after a resume: %d bytes, %v; want the %d bytes left", len(rest), err, len(want)-part)
	}
	zips := zipRequests(p.upstream.Requests())
	if len(zips) != 2 || zips[1].Range == "" {
		t.Errorf("upstream zip requests:\n%s\nwant a cut one and a resume", zips)
	}
	if !storedZip(t, p) {
		t.Errorf("the resumed zip is not stored")
	}
}

// TestZipStreamStartsOver: when upstream ignores ranges, a cut body's
// resume brings the whole body again, which the client does not see: it
// gets the zip byte for byte. When the body that comes again is another
// one, the client's response breaks.
func TestZipStreamStartsOver(t *testing.T) {
	for _, changed := range []bool{false, true} {
		t.Run(map[bool]string{false: "same", true: "changed"}[changed], func(t *testing.T) {
			g := newGatedZips(-1)
			p, want, _ := streamProxy(t, g, modnettest.Faults{NoRange: true, Rules: []modnettest.Rule{
				{Kind: modnettest.KindZip, First: 1, Fault: modnettest.Cut(modnettest.Half)},
			}})
			resp := getZip(t, p)
			part := len(want) / 4
			readPart(t, resp.Body, part, want)
			if changed {
				other := bigModule
				other.Files = map[string]string{"big.go": "package big // changed\n", "data.txt": bigModule.Files["data.txt"]}
				if err := p.upstream.Add(other); err != nil {
					t.Fatal(err)
				}
			}
			g.release()
			rest, err := io.ReadAll(resp.Body)
			switch {
			case changed && !errors.Is(err, io.ErrUnexpectedEOF):
				t.Errorf("reading a zip that changed upstream: %d more bytes, %v; want io.ErrUnexpectedEOF", len(rest), err)
			case !changed && (err != nil || !bytes.Equal(rest, want[part:])):
				t.Errorf("rest of the zip after a restart: %d bytes, %v; want the %d bytes left", len(rest), err, len(want)-part)
			}
			zips := zipRequests(p.upstream.Requests())
			if len(zips) != 2 || zips[1].Range == "" {
				t.Errorf("upstream zip requests:\n%s\nwant a cut one and one with a range", zips)
			}
			if changed && !strings.Contains(p.logs.String(), "the zip changed upstream while it was sent") {
				t.Errorf("no record of the changed zip in:\n%s", p.logs.String())
			}
		})
	}
}

// TestZipStreamAbortsLateFailure: when upstream fails for good after part
// of a zip was sent, the client's response breaks (it never sees a short
// body end cleanly), the store holds nothing, and the next request starts
// a fresh fetch.
func TestZipStreamAbortsLateFailure(t *testing.T) {
	g := newGatedZips(-1)
	p, want, answers := streamProxy(t, g, modnettest.Faults{Rules: []modnettest.Rule{
		{Kind: modnettest.KindZip, First: 1, Fault: modnettest.Cut(modnettest.Half)},
		{Kind: modnettest.KindZip, Fault: modnettest.Status(http.StatusForbidden)},
	}})
	resp := getZip(t, p)
	part := len(want) / 4 // of the half sent before the cut
	readPart(t, resp.Body, part, want)
	g.release()
	rest, err := io.ReadAll(resp.Body)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("reading a zip whose upstream failed after the first part: %d more bytes, %v; want io.ErrUnexpectedEOF", len(rest), err)
	}
	resp.Body.Close()
	// The handler answers before it breaks the connection.
	if a := answers(1); len(a) != 1 || a[0].Status != http.StatusBadGateway || a[0].Err == nil ||
		!strings.Contains(a[0].Err.Error(), "403 Forbidden") || a[0].Bytes < int64(part) || a[0].Bytes >= int64(len(want)) {
		t.Errorf("answers %+v; want one 502 with the upstream's 403, after part of the zip", a)
	}
	if storedZip(t, p) {
		t.Errorf("a part of the zip is stored")
	}
	p.upstream.SetFaults(modnettest.Faults{})
	if resp, body := p.get(bigZipPath); resp.StatusCode != 200 || !bytes.Equal(body, want) {
		t.Errorf("after the upstream recovered: %d, %d bytes; want 200 and the zip", resp.StatusCode, len(body))
	}
	if logs := p.logs.String(); !strings.Contains(logs, "aborting a zip response after its start") {
		t.Errorf("no record of the aborted response in:\n%s", logs)
	}
}

// TestZipFailsBeforeFirstByte: a zip whose upstream fails before a byte
// of it arrived is answered 502 with modkit's explanation, as before
// streaming; the next request starts a fresh fetch, which succeeds.
func TestZipFailsBeforeFirstByte(t *testing.T) {
	g := newGatedZips(-1)
	g.release()
	p, want, _ := streamProxy(t, g, modnettest.Faults{Rules: []modnettest.Rule{
		{Kind: modnettest.KindZip, Fault: modnettest.Status(http.StatusInternalServerError)},
	}})
	resp, body := p.get(bigZipPath)
	if resp.StatusCode != http.StatusBadGateway ||
		!strings.HasPrefix(string(body), "upstream failed (server): example.com/big@v1.0.0: ") ||
		!strings.Contains(string(body), "500 Internal Server Error") || !strings.Contains(string(body), "(modkit: ") {
		t.Errorf("zip failing upstream: %d %q; want 502, upstream failed (server) ... 500 Internal Server Error (modkit: ...)", resp.StatusCode, body)
	}
	if storedZip(t, p) {
		t.Errorf("a failed zip is stored")
	}
	p.upstream.SetFaults(modnettest.Faults{})
	if resp, body := p.get(bigZipPath); resp.StatusCode != 200 || !bytes.Equal(body, want) {
		t.Errorf("after the upstream recovered: %d, %d bytes; want 200 and the zip", resp.StatusCode, len(body))
	}
}

// TestZipRangeWaitsForStore: a request that is not a plain GET (here a
// range; HEAD and conditional requests alike) is answered from the stored
// zip, once it is there.
func TestZipRangeWaitsForStore(t *testing.T) {
	g := newGatedZips(-1)
	p, want, answers := streamProxy(t, g, modnettest.Faults{})
	resp, body := p.get(bigZipPath, "Range", "bytes=10-19")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, want[10:20]) {
		t.Errorf("range of a zip not stored: %d %q, want 206 and bytes 10-19", resp.StatusCode, body)
	}
	if a := answers(1); len(a) != 1 || a[0].From != "upstream" {
		t.Errorf("answers %+v, want one from upstream", a)
	}
}
