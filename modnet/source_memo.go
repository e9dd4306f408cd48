package modnet

import (
	"context"
	"sync"
)

// A sourceMemo remembers what each proxy answered for one module, so that
// it is asked once: the go command keeps one repository per proxy URL and
// module path for the length of a command (modfetch.Lookup), whose list
// (per prefix), @latest, .info and go.mod answers, failures included, are
// asked once (modfetch.cachingRepo); zips are asked every time. A walk
// keeps one for its length, so that GOPROXY=A|B|A asks A once; a query
// keeps one across the walks it makes for retractions.
type sourceMemo struct {
	mu sync.Mutex
	m  map[string]*memoAnswer // source URL and question → answer
}

type memoAnswer struct {
	once sync.Once
	val  any
	err  error
}

// wrap returns r remembering its answers, lists under prefix, when it is
// a proxy (or a proxy already wrapped); other sources are returned as
// they are.
func (m *sourceMemo) wrap(r repo, prefix string) repo {
	switch r := r.(type) {
	case *proxyRepo:
		return &memoRepo{repo: r, memo: m, url: r.src.URL, prefix: prefix}
	case *memoRepo:
		return &memoRepo{repo: r, memo: m, url: r.url, prefix: prefix}
	}
	return r
}

// ask returns the remembered answer to question, asking it first if need
// be.
func (m *sourceMemo) ask(key string, f func() (any, error)) (any, error) {
	m.mu.Lock()
	if m.m == nil {
		m.m = make(map[string]*memoAnswer)
	}
	a := m.m[key]
	if a == nil {
		a = &memoAnswer{}
		m.m[key] = a
	}
	m.mu.Unlock()
	a.once.Do(func() { a.val, a.err = f() })
	return a.val, a.err
}

// memoRepo is a proxy whose answers are remembered in memo.
type memoRepo struct {
	repo
	memo        *sourceMemo
	url, prefix string
}

func (r *memoRepo) Versions(ctx context.Context) ([]string, error) {
	v, err := r.memo.ask(r.url+"\x00list\x00"+r.prefix, func() (any, error) { return r.repo.Versions(ctx) })
	list, _ := v.([]string)
	return list, err
}

func (r *memoRepo) Latest(ctx context.Context) (*Info, error) {
	v, err := r.memo.ask(r.url+"\x00latest", func() (any, error) { return r.repo.Latest(ctx) })
	info, _ := v.(*Info)
	return info, err
}

func (r *memoRepo) Stat(ctx context.Context, rev string) (*Info, error) {
	v, err := r.memo.ask(r.url+"\x00stat\x00"+rev, func() (any, error) { return r.repo.Stat(ctx, rev) })
	info, _ := v.(*Info)
	return info, err
}

func (r *memoRepo) GoMod(ctx context.Context, version string) ([]byte, error) {
	v, err := r.memo.ask(r.url+"\x00mod\x00"+version, func() (any, error) { return r.repo.GoMod(ctx, version) })
	data, _ := v.([]byte)
	return data, err
}
