package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/modnet/modproxy"
	"github.com/modkit/modkit/retry"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	environ := make(map[string]string)
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			environ[k] = v
		}
	}
	os.Exit(run(ctx, os.Args[1:], environ, os.Stderr, nil))
}

// config is what the flags set.
type config struct {
	listen       string
	cacheDir     string
	store        string // bucket URL; "" is the disk store under cacheDir
	upstream     string // GOPROXY override
	gosumdb      string // GOSUMDB override
	latestMaxAge time.Duration
	logLevel     slog.Level
	logJSON      bool
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: proxy [flags]\n\nA caching Go module proxy built on modkit; see its README.\n\n")
		fs.PrintDefaults()
	}
	cfg := &config{}
	fs.StringVar(&cfg.listen, "listen", "localhost:8080", "`address` to serve on")
	fs.StringVar(&cfg.cacheDir, "cache", "", "`directory` the proxy owns for its module cache and store (default <user cache dir>/modkit-proxy)")
	fs.StringVar(&cfg.store, "store", "", "`URL` of a bucket to keep what the proxy serves in, shared by instances: s3://bucket?region=..., gs://bucket, azblob://container (default: the directory store/ under -cache)")
	fs.StringVar(&cfg.upstream, "upstream", "", "upstream GOPROXY `list` (default: GOPROXY from the environment, 'go env -w' and $GOROOT/go.env)")
	fs.StringVar(&cfg.gosumdb, "gosumdb", "", "checksum database to verify downloads with and to proxy, as `GOSUMDB` (default: from the environment)")
	fs.DurationVar(&cfg.latestMaxAge, "sumdb-latest-max-age", time.Minute, "how long a checksum database's signed tree head is served before asking upstream")
	fs.TextVar(&cfg.logLevel, "log-level", slog.LevelInfo, "log `level`: DEBUG, INFO, WARN or ERROR")
	fs.BoolVar(&cfg.logJSON, "log-json", false, "log JSON records instead of text")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	return cfg, nil
}

// run runs the proxy until ctx is done and returns the exit code: 0 after
// a clean shutdown, 1 on failure, 2 for bad usage. ready, if set, is told
// the address the proxy listens on.
func run(ctx context.Context, args []string, environ map[string]string, stderr io.Writer, ready func(addr string)) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	opts := &slog.HandlerOptions{Level: cfg.logLevel}
	var logger *slog.Logger
	if cfg.logJSON {
		logger = slog.New(slog.NewJSONHandler(stderr, opts))
	} else {
		logger = slog.New(slog.NewTextHandler(stderr, opts))
	}
	if cfg.cacheDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			logger.Error("no cache directory; set -cache", "error", err)
			return 1
		}
		cfg.cacheDir = filepath.Join(dir, "modkit-proxy")
	}

	s, client, err := newServer(cfg, environ, logger, &retry.Client{Logger: logger})
	if err != nil {
		logger.Error("configuration", "error", err)
		return 1
	}
	defer client.Close()
	defer s.Close()

	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		logger.Error("listen", "error", err)
		return 1
	}
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		// No WriteTimeout: a large zip to a slow client may take long.
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	logger.Info("serving", "addr", ln.Addr().String())
	if ready != nil {
		ready(ln.Addr().String())
	}

	select {
	case err := <-served:
		logger.Error("serve", "error", err)
		return 1
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		logger.Error("shutdown", "error", err)
		return 1
	}
	return 0
}

// newServer builds the proxy from the flags and the environment: the
// upstream route (GOPROXY, GONOPROXY, GOPRIVATE, GOAUTH...) comes from the
// environment as for the go command, with -upstream and -gosumdb taking
// precedence; the module cache and the checksum database's state live in
// the proxy's own directory, beside the store. The checksum database is
// reached through the Client, on the same HTTP stack as module requests
// (retries, HTTP proxy settings, GOAUTH credentials).
func newServer(cfg *config, environ map[string]string, logger *slog.Logger, hc *retry.Client) (*modproxy.Server, *modnet.Client, error) {
	if !filepath.IsAbs(cfg.cacheDir) {
		abs, err := filepath.Abs(cfg.cacheDir)
		if err != nil {
			return nil, nil, err
		}
		cfg.cacheDir = abs
	}
	environ = maps.Clone(environ)
	environ["GOMODCACHE"] = filepath.Join(cfg.cacheDir, "modcache")
	environ["GOPATH"] = filepath.Join(cfg.cacheDir, "gopath")
	if cfg.upstream != "" {
		environ["GOPROXY"] = cfg.upstream
	}
	if cfg.gosumdb != "" {
		environ["GOSUMDB"] = cfg.gosumdb
	}
	env, err := modnet.LoadEnvFrom(environ)
	if err != nil {
		return nil, nil, err
	}
	sources, err := env.ProxyList()
	if err != nil {
		if cfg.upstream != "" {
			err = fmt.Errorf("-upstream: %w", err)
		}
		return nil, nil, err
	}
	var upstream []string
	for _, src := range sources {
		upstream = append(upstream, src.Redacted()) // never log credentials
	}
	db, err := modnet.ParseGOSUMDB(env.Lookup("GOSUMDB"))
	switch {
	case err != nil && cfg.gosumdb != "":
		return nil, nil, fmt.Errorf("-gosumdb: %w", err)
	case err != nil:
		return nil, nil, err
	}

	store, err := openStore(cfg)
	if err != nil {
		return nil, nil, err
	}
	client := &modnet.Client{Env: env, HTTP: hc, Logger: logger}
	sumdbs := make(map[string]modproxy.ChecksumDB)
	if db.Name != "" {
		d, err := client.SumDB()
		if err != nil {
			return nil, nil, err
		}
		sumdbs[d.Name()] = d
	}
	s := &modproxy.Server{
		Client:            client,
		Verify:            true,
		Store:             store,
		SumDBs:            sumdbs,
		SumDBLatestMaxAge: cfg.latestMaxAge,
		TimeoutNotFound:   true,
		Logger:            logger,
	}
	logger.Info("configuration", "cache", cfg.cacheDir, "store", cmp.Or(bucketName(cfg.store), "disk"), "upstream", strings.Join(upstream, " "),
		"gonoproxy", env.Get("GONOPROXY"), "sumdb", db.Name)
	return s, client, nil
}
