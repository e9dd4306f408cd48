// Package testenv is what modkit's tests share to reach the outside world
// without leaving the machine: the installed go command run hermetically
// ([NewGo], [GoEnv]), so that differential tests compare modkit with it
// under the same settings, and a fake network ([NewNet]) of named hosts on
// loopback behind a CONNECT proxy, with certificates from a test [CA], so
// that module paths can be ordinary host names. It is not a test framework
// and holds no assertions: each test says what it expects. It serves tests
// (it skips or fails the testing.TB it is given) and, through [Environ],
// the measurement programs in examples/ that run the go command.
package testenv
