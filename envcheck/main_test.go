package envcheck

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no probe leaves a goroutine behind: every
// connection, tunnel and timer a run starts must end with it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
