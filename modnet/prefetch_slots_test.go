package modnet

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
)

// Within a priority, larger jobs are served first, equal ones in order of
// arrival; a higher priority still goes before any size.
func TestSlotsLargestFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSlots(1)
		ctx := context.Background()
		if err := s.acquire(ctx, prioBulk); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var order []string
		for _, w := range []struct {
			name string
			prio int
			size int64
		}{{"10", prioBulk, 10}, {"30a", prioBulk, 30}, {"20", prioBulk, 20}, {"30b", prioBulk, 30}, {"small", prioSmall, 0}, {"0", prioBulk, 0}} {
			go func() {
				if err := s.acquireSized(ctx, w.prio, w.size); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				order = append(order, w.name)
				mu.Unlock()
				s.release()
			}()
			synctest.Wait() // queued before the next one arrives
		}
		s.release()
		synctest.Wait()
		if want := []string{"small", "30a", "30b", "20", "10", "0"}; !slices.Equal(order, want) {
			t.Errorf("served %v, want %v", order, want)
		}
	})
}

// Neither zips nor small files can hold more than three quarters of the
// transfer slots: the other kind always finds the rest.
func TestHostSlotsShares(t *testing.T) {
	for _, bulk := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			h := newHostSlots(4, 4) // shares of 3
			ctx := context.Background()
			var held []func()
			for range 3 {
				r, err := h.acquire(ctx, "h", bulk, prioSmall)
				if err != nil {
					t.Fatal(err)
				}
				held = append(held, r)
			}
			sameKind := make(chan func())
			go func() {
				r, err := h.acquire(ctx, "h", bulk, prioSmall)
				if err != nil {
					t.Error(err)
				}
				sameKind <- r
			}()
			synctest.Wait()
			select {
			case <-sameKind:
				t.Fatalf("bulk %v: a fourth transfer of one kind got a slot", bulk)
			default:
			}
			other, err := h.acquire(ctx, "h", !bulk, prioSmall)
			if err != nil {
				t.Fatal(err)
			}
			other()
			held[0]()
			(<-sameKind)()
			for _, r := range held[1:] {
				r()
			}
		})
	}
}
