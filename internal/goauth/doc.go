// Package goauth is GOAUTH and .netrc as the go command reads and uses them
// (cmd/go/internal/auth): it parses GOAUTH's ';'-separated commands with
// the go command's rules and words ([Parse], [ParseEntry]), reads .netrc
// with its quirks ([ParseNetrc], [NetrcPath]), and an [Authenticator] runs
// the commands and adds what they provide to https requests, asking again
// after a 4xx. It takes plain inputs, a GOAUTH value and an environment
// list, not a modnet.Env, so that modnet and the doctor share it. It is
// not an HTTP client, sends nothing over plain http, and never puts a
// credential into an error or a log.
package goauth
