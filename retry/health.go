package retry

import "sync"

// health tracks how a host's recent attempts went: an exponentially
// weighted moving average of failures (retryable outcomes), for
// AdaptiveBackoff.
type health struct {
	mu   sync.Mutex
	rate float64
}

// healthAlpha weighs each new outcome; with 0.1 a host's rate reflects
// roughly its last twenty attempts, and a host that has been answering
// needs a run of about seven failures in a row to count as struggling.
const healthAlpha = 0.1

// strugglingRate is the failure rate above which a host counts as
// struggling: most of its recent attempts failed.
const strugglingRate = 0.5

// healthFor returns host's record. A host not heard from yet starts
// undecided, at strugglingRate: its first failure makes it struggling, and
// a couple of successes make it healthy.
func (c *Client) healthFor(host string) *health {
	if h, ok := c.health.Load(host); ok {
		return h.(*health)
	}
	h, _ := c.health.LoadOrStore(host, &health{rate: strugglingRate})
	return h.(*health)
}

func (h *health) observe(failed bool) {
	x := 0.0
	if failed {
		x = 1
	}
	h.mu.Lock()
	h.rate += healthAlpha * (x - h.rate)
	h.mu.Unlock()
}

func (h *health) struggling() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rate > strugglingRate
}
