package benchrun_test

import (
	"fmt"
	"time"

	"github.com/modkit/modkit/examples/internal/benchrun"
)

func ExampleMedian() {
	runs := []time.Duration{1200 * time.Millisecond, 900 * time.Millisecond, 1000 * time.Millisecond}
	fmt.Println(benchrun.Median(runs))
	// Output: 1s
}
