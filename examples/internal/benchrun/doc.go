// Package benchrun is the run discipline modkit's whole-command benchmarks
// share (prefetchbench, execbench): the latencies they are asked for, a
// settled disk before each timed run, commands that take their process
// group down with them when cancelled, and the median of alternating runs.
// It measures nothing by itself and prints nothing: each program times and
// reports its own commands.
package benchrun
