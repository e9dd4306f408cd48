package modnet

import (
	"errors"
	"log/slog"

	"github.com/modkit/modkit/internal/goauth"
)

// newAuthenticator returns the GOAUTH credential store for env (package
// goauth, after cmd/go/internal/auth). A malformed GOAUTH is a
// *SettingError naming the entry and where the setting came from, as the
// go command reports it before its first HTTPS request.
func newAuthenticator(env *Env, logger *slog.Logger) (*goauth.Authenticator, error) {
	v := env.Lookup("GOAUTH")
	a, err := goauth.New(goauth.Config{GOAUTH: v.Value, Environ: env.Environ(), Logger: logger})
	if ee := (*goauth.EntryError)(nil); errors.As(err, &ee) {
		return nil, &SettingError{Value: v, Entry: ee.Entry, Err: ee.Err, Fix: ee.Fix}
	}
	return a, err
}

// A NetrcEntry is one machine entry of a .netrc file: Machine (host, or
// host:port), Login, Password, and the 1-based Line of its machine token.
// Complete reports whether it has all three, which the go command
// requires of an entry it uses.
type NetrcEntry = goauth.NetrcEntry

// ParseNetrc reads .netrc data with the go command's rules
// (cmd/go/internal/auth.parseNetrc), quirks included, so that modkit and
// the go command send the same credentials: fields pair up within a line
// only, an entry is complete at its first machine, login and password,
// "macdef" skips to the next empty line, and a trailing "default" ends the
// file. It returns every entry in file order, incomplete ones included
// (see [NetrcEntry.Complete]), and how many "machine" tokens follow the
// "default" that ended the file, which the go command never reads.
func ParseNetrc(data string) (entries []NetrcEntry, ignored int) {
	return goauth.ParseNetrc(data)
}

// NetrcPath returns the .netrc file the go command reads
// (cmd/go/internal/auth.netrcPath) for the Env's variables: $NETRC if set,
// else .netrc in the home directory; on Windows _netrc is preferred when it
// exists. The file need not exist.
func (e *Env) NetrcPath() (string, error) {
	return goauth.NetrcPath(e.OS)
}
