package envcheck

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEListsEveryCheck keeps the README's checks table complete.
func TestREADMEListsEveryCheck(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Checks() {
		if !strings.Contains(string(data), "| `"+c.ID+"` | "+c.Area+" |") {
			t.Errorf("README.md has no table row for %s (%s)", c.ID, c.Area)
		}
	}
}
