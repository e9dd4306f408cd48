package analyzer

import (
	"go/token"
	"runtime"
	"testing"
)

// TestRunsForgetFileSets checks that a long-lived process (an editor's
// analysis server) does not keep the state of every driver run it saw.
func TestRunsForgetFileSets(t *testing.T) {
	st := &runner{runs: make(map[runKey]*modRun)}
	kept := token.NewFileSet()
	st.modRun(kept, "/m/go.mod")
	func() {
		gone := token.NewFileSet()
		st.modRun(gone, "/m/go.mod")
	}()
	for range 1000 {
		runtime.GC()
		st.mu.Lock()
		n := len(st.runs)
		st.mu.Unlock()
		if n == 1 {
			runtime.KeepAlive(kept)
			return
		}
		runtime.Gosched()
	}
	t.Fatalf("the state of a collected FileSet's run was kept")
}
