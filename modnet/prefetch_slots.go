package modnet

import (
	"context"
	"slices"
	"sync"
)

// Transfer priorities: a transfer resuming after a retry's wait first,
// then go.mod and .info files, which are small and which the graph walk
// waits for, then zips.
const (
	prioRetry = iota
	prioSmall
	prioBulk
	numPrio
)

// slots is a counting semaphore whose waiters are served by priority,
// then in order of arrival.
type slots struct {
	mu   sync.Mutex
	free int
	wait [numPrio][]chan struct{}
}

func newSlots(n int) *slots { return &slots{free: n} }

func (s *slots) acquire(ctx context.Context, prio int) error {
	s.mu.Lock()
	if s.free > 0 {
		s.free--
		s.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	s.wait[prio] = append(s.wait[prio], ch)
	s.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		if i := slices.Index(s.wait[prio], ch); i >= 0 {
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
			ch := s.wait[prio][0]
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
// downloads.
type hostSlots struct {
	all, allBulk *slots
	perHost      int
	mu           sync.Mutex
	hosts        map[string][2]*slots // host → its slots, its bulk slots
}

func newHostSlots(total, perHost int) *hostSlots {
	return &hostSlots{all: newSlots(total), allBulk: newSlots(bulkShare(total)), perHost: perHost,
		hosts: make(map[string][2]*slots)}
}

func bulkShare(n int) int { return max(1, n*3/4) }

func (h *hostSlots) acquire(ctx context.Context, host string, bulk bool, prio int) (release func(), err error) {
	h.mu.Lock()
	hs, ok := h.hosts[host]
	if !ok {
		hs = [2]*slots{newSlots(h.perHost), newSlots(bulkShare(h.perHost))}
		h.hosts[host] = hs
	}
	h.mu.Unlock()
	// Always in this order, bulk shares first, so that no two waiters
	// hold what the other waits for.
	order := []*slots{hs[0], h.all}
	if bulk {
		order = []*slots{hs[1], h.allBulk, hs[0], h.all}
	}
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
