package modnet

import (
	"context"
	"slices"
	"sync"
)

// Transfer priorities: a transfer resuming after a retry's wait first,
// then go.mod files, which are small and which the graph walk waits for,
// then zips and .info files.
const (
	prioRetry = iota
	prioSmall
	prioBulk
	numPrio
)

// slots is a counting semaphore whose waiters are served by priority,
// then, within a priority, largest size first (see acquireSized), then in
// order of arrival.
type slots struct {
	mu   sync.Mutex
	free int
	wait [numPrio][]waiter
}

// A waiter is one acquire waiting for a slot.
type waiter struct {
	ch   chan struct{}
	size int64
}

func newSlots(n int) *slots { return &slots{free: n} }

func (s *slots) acquire(ctx context.Context, prio int) error { return s.acquireSized(ctx, prio, 0) }

// acquireSized is acquire for a job of the given size: among the waiters
// of one priority, a larger job is served first. For the extractors this
// is longest-job-first scheduling: a large zip that arrives while dozens
// of small ones wait would otherwise be extracted last, alone on one core
// while the others idle (on the real graph, one zip of 40 MB among 139).
func (s *slots) acquireSized(ctx context.Context, prio int, size int64) error {
	s.mu.Lock()
	if s.free > 0 {
		s.free--
		s.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	q := s.wait[prio]
	// After every waiter at least as large: equal sizes keep their order.
	i := len(q)
	for i > 0 && q[i-1].size < size {
		i--
	}
	s.wait[prio] = slices.Insert(q, i, waiter{ch, size})
	s.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		if i := slices.IndexFunc(s.wait[prio], func(w waiter) bool { return w.ch == ch }); i >= 0 {
			s.wait[prio] = slices.Delete(s.wait[prio], i, i+1)
			s.mu.Unlock()
			return context.Cause(ctx)
		}
		s.mu.Unlock()
		s.release() // granted meanwhile: pass it on
		return context.Cause(ctx)
	}
}

func (s *slots) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for prio := range s.wait {
		if len(s.wait[prio]) > 0 {
			ch := s.wait[prio][0].ch
			s.wait[prio] = s.wait[prio][1:]
			close(ch)
			return
		}
	}
	s.free++
}

// hostSlots bounds transfers overall and per host. Zips may hold at most
// three quarters of either bound, so that the small files the graph walk
// and the other modules wait for never queue behind a wall of large
// downloads; and small files may hold at most three quarters too, so that
// the zips, which the extractors wait for, never queue behind the whole
// graph's go.mod and .info files (at 10 ms a round trip, the first zip of
// the real graph started only after 130 ms of them, with both cores idle).
type hostSlots struct {
	all     *slots
	share   [2]*slots // of all: the small files' share, the zips'
	perHost int
	mu      sync.Mutex
	hosts   map[string][3]*slots // host → its slots, its small and bulk shares
}

func newHostSlots(total, perHost int) *hostSlots {
	return &hostSlots{all: newSlots(total), share: [2]*slots{newSlots(kindShare(total)), newSlots(kindShare(total))},
		perHost: perHost, hosts: make(map[string][3]*slots)}
}

func kindShare(n int) int { return max(1, n*3/4) }

func (h *hostSlots) acquire(ctx context.Context, host string, bulk bool, prio int) (release func(), err error) {
	h.mu.Lock()
	hs, ok := h.hosts[host]
	if !ok {
		hs = [3]*slots{newSlots(h.perHost), newSlots(kindShare(h.perHost)), newSlots(kindShare(h.perHost))}
		h.hosts[host] = hs
	}
	h.mu.Unlock()
	kind := 0
	if bulk {
		kind = 1
	}
	// Always in this order, shares first, so that no two waiters hold
	// what the other waits for.
	order := []*slots{hs[1+kind], h.share[kind], hs[0], h.all}
	for i, s := range order {
		if err := s.acquire(ctx, prio); err != nil {
			for _, held := range order[:i] {
				held.release()
			}
			return nil, err
		}
	}
	return func() {
		for _, s := range order {
			s.release()
		}
	}, nil
}
