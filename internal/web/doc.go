// Package web is modkit's one HTTP security policy: which redirects a
// client may follow ([CheckRedirect], [Get]), as the go
// command's cmd/go/internal/web decides, and how a URL is shown in an
// error, log, trace, JSON or doctor line ([Redact] and its kin), which is
// stricter than the go command: the whole user information goes, user
// name too, because tokens are often passed as the user name. It is not an
// HTTP client (that is package retry) and knows nothing of modules; every
// package that sends or shows a URL uses it, and it imports no other
// modkit package.
package web
