// Package osenv answers what packages os and os/exec answer from the
// process environment — where a program is on PATH, where the home,
// configuration and cache directories are — from an environment passed as
// a lookup function instead: that of a modnet.Env loaded from another
// environment than the process's, a doctor's subject, or a test's. It is
// not an environment loader (that is modnet.Env) and reads no variables by
// itself.
package osenv
