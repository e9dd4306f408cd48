package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
	"golang.org/x/mod/module"

	"github.com/modkit/modkit/internal/testenv"
	"github.com/modkit/modkit/modnet/modnettest"
)

// TestSharedBucket is the deployment of the README: two proxy processes
// with -store naming one S3 bucket (MinIO on loopback), behind a load
// balancer, with no coordination between them. First the go command
// downloads a module graph through the balancer, both instances serving,
// and builds offline. Then it downloads a second graph, and one instance
// is killed (SIGKILL) in the middle of a multipart upload to the bucket:
// the other keeps serving, the object being uploaded never appears until
// the survivor has stored it whole, and the go command builds offline
// again. Last, an empty module cache is filled through the survivor alone,
// from the bucket. Every object in the bucket is byte for byte what the
// upstream serves.
func TestSharedBucket(t *testing.T) {
	m := startMinIO(t)
	bucket := m.bucketURL(t, "modules")
	var graphs [2]*modnettest.Graph
	var modules []modnettest.Module
	for i := range graphs {
		g, err := modnettest.GenerateGraph(modnettest.GraphConfig{Seed: uint64(18 + i), Modules: 12, ZipBytes: 64 << 20, Prefix: fmt.Sprintf("127.0.0.1/g%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		graphs[i] = g
		modules = append(modules, g.Modules...)
	}
	upstream := modnettest.NewServer(modules...)
	defer upstream.Close()

	bin := filepath.Join(t.TempDir(), "proxy")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// Instance a reaches the bucket through a pass-through proxy that,
	// once armed, kills it in the middle of a multipart upload: the second
	// part is on the wire when a dies, the first one already stored.
	var a *instance
	var armed atomic.Bool
	var uploading atomic.Value // the key a was uploading when it died
	target, _ := url.Parse(m.endpoint)
	s3front := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite:  func(r *httputil.ProxyRequest) { r.SetURL(target); r.Out.Host = r.In.Host },
		ErrorLog: log.New(io.Discard, "", 0), // a's connections break when it dies
	})
	defer s3front.Close()
	s3front.Config.Handler = killOnPart(s3front.Config.Handler, &armed, func(key string) {
		a.kill(t)
		uploading.Store(key)
		if _, err := openBucket(t, bucket).Attributes(context.Background(), key); gcerrors.Code(err) != gcerrors.NotFound {
			t.Errorf("after a died uploading %s, the bucket has it (%v)", key, err)
		}
	})
	a = startInstance(t, bin, upstream, strings.Replace(bucket, m.endpoint, s3front.URL, 1), m.env)
	b := startInstance(t, bin, upstream, bucket, m.env)
	lb := &balancer{backends: []*instance{a, b}}
	front := httptest.NewServer(lb)
	defer front.Close()

	download := func(proxy string, graph *modnettest.Graph) {
		t.Helper()
		work := t.TempDir()
		if err := graph.WriteMain(work); err != nil {
			t.Fatal(err)
		}
		g := testenv.NewGo(t, "GOPROXY="+proxy, "GOSUMDB=off", "GOPRIVATE=", "GONOSUMDB=", "GONOPROXY=")
		g.Dir = work
		g.MustRun("mod", "download", "all")
		g.Env = append(g.Env, "GOPROXY=off")
		g.MustRun("build", "./...")
	}

	download(front.URL, graphs[0])
	if lb.served(a) == 0 || lb.served(b) == 0 {
		t.Fatalf("a served %d requests, b %d: both should have", lb.served(a), lb.served(b))
	}
	t.Logf("first graph: a served %d requests, b %d", lb.served(a), lb.served(b))

	// Everything to a first, so that it gets the large zips, until it dies.
	armed.Store(true)
	lb.prefer(a)
	before := lb.served(b)
	download(front.URL, graphs[1])
	if !a.killed.Load() {
		t.Fatal("instance a never uploaded a second part, so it was not killed: the test proves less than it claims")
	}
	t.Logf("second graph: a died uploading %s; b served %d requests, %d of them retried after a failed",
		uploading.Load(), lb.served(b)-before, lb.retried.Load())

	// Another machine, through the survivor alone.
	download(b.url, graphs[0])
	download(b.url, graphs[1])

	checkBucket(t, bucket, upstream, graphs[:])
}

// checkBucket compares every object of the bucket with what the upstream
// serves under the same path, and checks that every zip of the build list
// is there.
func checkBucket(t *testing.T, url string, upstream *modnettest.Server, graphs []*modnettest.Graph) {
	t.Helper()
	ctx := context.Background()
	bk := openBucket(t, url)
	keys := make(map[string]bool)
	it := bk.List(nil)
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		keys[obj.Key] = true
		if !strings.HasSuffix(obj.Key, ".zip") && !strings.HasSuffix(obj.Key, ".mod") && !strings.HasSuffix(obj.Key, ".info") {
			t.Errorf("unexpected object %s in the bucket", obj.Key)
			continue
		}
		got, err := bk.ReadAll(ctx, obj.Key)
		if err != nil {
			t.Fatal(err)
		}
		code, body := get(t, upstream.URL+"/"+obj.Key)
		if code != http.StatusOK {
			t.Fatalf("upstream has no %s: %d", obj.Key, code)
		}
		want := []byte(body)
		if strings.HasSuffix(obj.Key, ".info") {
			got, want = canonicalJSON(t, got), canonicalJSON(t, want)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("object %s: %d bytes that differ from the upstream's %d", obj.Key, len(got), len(want))
		}
	}
	for _, graph := range graphs {
		for _, mv := range graph.BuildList {
			if key := escaped(t, mv.Path, mv.Version) + ".zip"; !keys[key] {
				t.Errorf("the bucket lacks %s", key)
			}
		}
	}
}

func canonicalJSON(t *testing.T, b []byte) []byte {
	t.Helper()
	var v struct{ Version, Time string }
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	out, _ := json.Marshal(v)
	return out
}

func openBucket(t *testing.T, url string) *blob.Bucket {
	t.Helper()
	bk, err := blob.OpenBucket(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bk.Close() })
	return bk
}

// killOnPart calls kill, once, when armed and the upload of a second part of an
// object begins (S3's UploadPart, partNumber=2), and then fails that
// request without passing it on.
func killOnPart(h http.Handler, armed *atomic.Bool, kill func(key string)) http.Handler {
	var once sync.Once
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if armed.Load() && r.Method == http.MethodPut && r.URL.Query().Get("partNumber") == "2" {
			hit := false
			once.Do(func() { hit = true })
			if hit {
				io.CopyN(io.Discard, r.Body, 1<<20) // part of the part
				_, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
				kill(key)
				http.Error(w, "killed", http.StatusServiceUnavailable)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// instance is a proxy process.
type instance struct {
	name   string
	url    string
	cmd    *exec.Cmd
	killed atomic.Bool
}

var instances atomic.Int32

// startInstance starts the proxy binary with its own -cache directory and
// the shared bucket, and waits until it listens.
func startInstance(t *testing.T, bin string, upstream *modnettest.Server, bucket string, env []string) *instance {
	t.Helper()
	in := &instance{name: fmt.Sprintf("instance %d", instances.Add(1))}
	in.cmd = exec.Command(bin, "-listen", "127.0.0.1:0", "-cache", t.TempDir(), "-store", bucket,
		"-upstream", upstream.URL, "-gosumdb", upstream.SumDB().GOSUMDB(), "-log-json")
	in.cmd.Env = append(os.Environ(), append(env, "GOENV=off", "GOFLAGS=", "GONOPROXY=", "GOPRIVATE=", "GONOSUMDB=")...)
	stderr, err := in.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.kill(t) })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "serving" {
				addr <- rec.Addr
			}
		}
		close(addr)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatalf("%s exited before serving", in.name)
		}
		in.url = "http://" + a
	case <-time.After(time.Minute):
		t.Fatalf("%s not serving after a minute", in.name)
	}
	return in
}

// kill ends the process at once, as a crash or an OOM kill would.
func (in *instance) kill(t *testing.T) {
	if in.killed.Swap(true) {
		return
	}
	in.cmd.Process.Kill()
	in.cmd.Wait()
	t.Logf("%s killed", in.name)
}

// balancer is what sits in front of the instances: round robin, and a
// request whose instance fails (refused, reset, cut mid-body) is sent to
// the next one, as a load balancer with retries and buffered responses
// does (nginx's proxy_next_upstream, an AWS ALB's health checks).
type balancer struct {
	backends  []*instance
	onForward func(*instance, string)

	mu      sync.Mutex
	next    int       // round robin
	first   *instance // if set, the instance tried first
	counts  map[*instance]int
	retried atomic.Int32
}

// prefer sends every request to in first, while it lives.
func (lb *balancer) prefer(in *instance) {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	lb.first = in
	lb.next = slices.Index(lb.backends, in)
}

func (lb *balancer) served(in *instance) int {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	return lb.counts[in]
}

func (lb *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	lb.mu.Lock()
	start := lb.next
	if lb.first == nil {
		lb.next++
	}
	lb.mu.Unlock()
	for i := range lb.backends {
		in := lb.backends[(start+i)%len(lb.backends)]
		if in.killed.Load() {
			continue
		}
		if lb.onForward != nil {
			lb.onForward(in, r.URL.Path)
		}
		status, header, body, err := forward(r, in.url)
		if err != nil {
			lb.retried.Add(1)
			continue
		}
		lb.mu.Lock()
		if lb.counts == nil {
			lb.counts = make(map[*instance]int)
		}
		lb.counts[in]++
		lb.mu.Unlock()
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		w.Write(body)
		return
	}
	http.Error(w, "no instance available", http.StatusBadGateway)
}

// forward sends r to the instance and reads the whole answer.
func forward(r *http.Request, base string) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, base+r.URL.RequestURI(), nil)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.StatusCode, resp.Header, body, nil
}

// escaped is the store key of a module version's files, without the
// extension.
func escaped(t *testing.T, path, version string) string {
	t.Helper()
	ep, err := module.EscapePath(path)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := module.EscapeVersion(version)
	if err != nil {
		t.Fatal(err)
	}
	return ep + "/@v/" + ev
}
