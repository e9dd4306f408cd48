package retry

import "sync"

// Budget is a per-host retry token bucket in the spirit of the AWS SDKs'
// retry quota: first attempts are always free, every retry, resume or hedge
// spends tokens (a timeout costs more, because it held a connection the
// longest), and successes pay tokens back. While a host keeps failing the
// bucket drains and further requests get exactly one attempt each, so a
// dead proxy cannot turn every request into MaxAttempts requests.
//
// The zero value is ready to use with the defaults below. A Budget may be
// shared by several Clients and is safe for concurrent use. Set the fields
// before first use.
type Budget struct {
	// Capacity is the number of tokens each host starts with and can
	// accumulate; 0 means 500. A negative Capacity disables the budget.
	Capacity int

	// RetryCost is what a retry, resume or hedge costs; 0 means 5.
	RetryCost int

	// TimeoutCost is what a retry after a timeout costs; 0 means 10.
	TimeoutCost int

	// SuccessRefund is what a request that succeeded on its first
	// attempt returns to the bucket; 0 means 1. A request that succeeded
	// after retries instead returns the cost of its last retry.
	SuccessRefund int

	mu    sync.Mutex
	hosts map[string]int // tokens left, for hosts that have spent any
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func (b *Budget) capacity() int { return orDefault(b.Capacity, 500) }

// Tokens returns the tokens host has left. A disabled budget reports -1.
func (b *Budget) Tokens(host string) int {
	if b.capacity() < 0 {
		return -1
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tokensLocked(host)
}

func (b *Budget) tokensLocked(host string) int {
	if n, ok := b.hosts[host]; ok {
		return n
	}
	return b.capacity()
}

// cost returns what a retry after a failure of class c costs.
func (b *Budget) cost(c Class) int {
	if c == Timeout {
		return orDefault(b.TimeoutCost, 10)
	}
	return orDefault(b.RetryCost, 5)
}

// take spends n tokens of host's bucket, or reports false and spends
// nothing if fewer are left.
func (b *Budget) take(host string, n int) bool {
	if b.capacity() < 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	left := b.tokensLocked(host)
	if left < n {
		return false
	}
	if b.hosts == nil {
		b.hosts = make(map[string]int)
	}
	b.hosts[host] = left - n
	return true
}

// succeed pays back tokens after a successful request: lastCost if it had
// to retry, SuccessRefund otherwise.
func (b *Budget) succeed(host string, lastCost int) {
	c := b.capacity()
	if c < 0 {
		return
	}
	if lastCost == 0 {
		lastCost = orDefault(b.SuccessRefund, 1)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	left, ok := b.hosts[host]
	if !ok {
		return // never spent anything: already full
	}
	left += lastCost
	if left >= c {
		delete(b.hosts, host)
		return
	}
	b.hosts[host] = left
}
