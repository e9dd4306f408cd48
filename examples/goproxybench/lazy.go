package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"sync"

	"github.com/modkit/modkit/modnet"
)

// lazyZip is the one way found to let goproxy answer a .mod request
// before the zip has arrived, measured here and not in modnet: Download
// returns once the .info and .mod are verified, with a zip that waits for
// its download when first read or sought. It helps only a goproxy without
// a Cacher (with one, goproxy stores the zip before it answers), and it
// changes what a failing zip looks like: goproxy's http.ServeContent
// answers a zip that fails in Seek with "500 seeker can't seek" instead
// of the 404 or 502 with the error that a failing Download gets.
type lazyZip struct {
	*modnet.Fetcher
	c *modnet.Client
}

func (l *lazyZip) Download(ctx context.Context, path, version string) (info, mod, zip io.ReadSeekCloser, err error) {
	z := &pendingZip{done: make(chan struct{})}
	go func() {
		defer close(z.done)
		// Not the caller's context: the .mod request ends long before.
		i, m, f, err := l.Fetcher.Download(context.WithoutCancel(ctx), path, version)
		if err != nil {
			z.err = err
			return
		}
		i.Close()
		m.Close()
		z.f = f
	}()
	var (
		wg         sync.WaitGroup
		in         *modnet.Info
		gomod      []byte
		ierr, merr error
	)
	wg.Go(func() { in, ierr = l.c.Info(ctx, path, version) })
	wg.Go(func() { gomod, merr = l.c.GoMod(ctx, path, version) })
	wg.Wait()
	if err := cmpErr(ierr, merr); err != nil {
		z.Close()
		return nil, nil, nil, err
	}
	js, err := json.Marshal(in)
	if err != nil {
		z.Close()
		return nil, nil, nil, err
	}
	return nopCloser{bytes.NewReader(js)}, nopCloser{bytes.NewReader(gomod)}, z, nil
}

func cmpErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// pendingZip is a zip file still being downloaded.
type pendingZip struct {
	done chan struct{}
	f    io.ReadSeekCloser
	err  error
}

func (z *pendingZip) Read(p []byte) (int, error) {
	<-z.done
	if z.err != nil {
		return 0, z.err
	}
	return z.f.Read(p)
}

func (z *pendingZip) Seek(offset int64, whence int) (int64, error) {
	<-z.done
	if z.err != nil {
		return 0, z.err
	}
	return z.f.Seek(offset, whence)
}

// Close closes the file once it has arrived, without waiting for it.
func (z *pendingZip) Close() error {
	go func() {
		<-z.done
		if z.f != nil {
			z.f.Close()
		}
	}()
	return nil
}
