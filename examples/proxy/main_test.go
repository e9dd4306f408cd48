package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/modkit/modkit/modnet/modnettest"
)

func TestRunUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"-help"}, 0, "usage: proxy [flags]"},
		{[]string{"-nope"}, 2, "flag provided but not defined: -nope"},
		{[]string{"extra"}, 2, "usage: proxy [flags]"},
		{[]string{"-log-level", "LOUD"}, 2, `invalid value "LOUD" for flag -log-level`},
		{[]string{"-cache", t.TempDir(), "-upstream", "proxy,direct"}, 1, `error="-upstream: GOPROXY entry \"proxy\"`},
	} {
		var out strings.Builder
		if code := run(context.Background(), tt.args, testEnviron(t), &out, nil); code != tt.code || !strings.Contains(out.String(), tt.out) {
			t.Errorf("run %q = %d, output:\n%s\nwant %d and %q", tt.args, code, out.String(), tt.code, tt.out)
		}
	}
}

// TestRun starts the command as main does, serves a request and shuts
// down cleanly when its context ends.
func TestRun(t *testing.T) {
	upstream := modnettest.NewServer(testModules...)
	defer upstream.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan string, 1)
	done := make(chan int, 1)
	logs := new(syncBuffer)
	args := []string{"-listen", "127.0.0.1:0", "-cache", t.TempDir(), "-upstream", upstream.URL,
		"-gosumdb", upstream.SumDB().GOSUMDB(), "-log-json"}
	go func() { done <- run(ctx, args, testEnviron(t), logs, func(addr string) { addrs <- addr }) }()
	var addr string
	select {
	case addr = <-addrs:
	case code := <-done:
		t.Fatalf("run exited with %d:\n%s", code, logs)
	}

	for path, want := range map[string]string{"/healthz": "ok\n", "/example.com/m/@v/list": "v1.0.0\nv1.2.0\nv1.3.0-beta.1\n"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != want {
			t.Errorf("GET %s: %d %q, want 200 %q", path, resp.StatusCode, body, want)
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("run exited with %d after shutdown, want 0", code)
	}
	for _, want := range []string{`"msg":"configuration"`, `"upstream":"` + upstream.URL + `"`, `"msg":"serving"`,
		`"msg":"request","method":"GET","path":"/example.com/m/@v/list","status":200`, `"msg":"shutting down"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
}

// TestUpstreamCredentialsNotLogged: a GOPROXY URL's password never reaches
// the logs.
func TestUpstreamCredentialsNotLogged(t *testing.T) {
	var logs strings.Builder
	cfg := &config{cacheDir: t.TempDir(), upstream: "https://user:hunter2@proxy.example.com", gosumdb: "off"}
	_, client, err := newServer(cfg, testEnviron(t), slog.New(slog.NewTextHandler(&logs, nil)), fastRetries())
	if err != nil {
		t.Fatal(err)
	}
	client.Close()
	if strings.Contains(logs.String(), "hunter2") || strings.Contains(logs.String(), "user:") || !strings.Contains(logs.String(), "https://xxxxx@proxy.example.com") {
		t.Errorf("logs:\n%s", logs.String())
	}
}
