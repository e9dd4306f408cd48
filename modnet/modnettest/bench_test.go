package modnettest

import (
	"io"
	"net/http"
	"testing"
)

// BenchmarkServeZip measures the server's own cost per zip download, the
// floor under any client benchmark that uses it.
func BenchmarkServeZip(b *testing.B) {
	m := bigModule(b)
	srv := NewServer(m)
	defer srv.Close()
	c := srv.Client()
	url := zipURL(srv, m)
	z, _ := m.BuildZip()
	b.SetBytes(int64(len(z)))
	for b.Loop() {
		resp, err := c.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatal(resp.Status)
		}
	}
}

// BenchmarkDecide measures the fault decision made for every request.
func BenchmarkDecide(b *testing.B) {
	f := StandardMix(1)
	f.Rules = []Rule{{Module: "example.com/private", Fault: Status(403)}, {Kind: KindList, First: 1, Fault: Reset()}}
	t := target{kind: KindZip, module: "example.com/public/m", version: "v1.0.0"}
	n := 0
	for b.Loop() {
		f.decide("/example.com/public/m/@v/v1.0.0.zip", t, n)
		n++
	}
}

// BenchmarkGenerateGraph measures building the default benchmark graph:
// 120 modules and about 40 MiB of zips.
func BenchmarkGenerateGraph(b *testing.B) {
	for b.Loop() {
		g, err := GenerateGraph(GraphConfig{Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(g.ZipBytes)
	}
}
