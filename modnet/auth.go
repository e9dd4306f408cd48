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

// NetrcPath returns the .netrc file the go command reads
// (cmd/go/internal/auth.netrcPath) for the Env's variables: $NETRC if set,
// else .netrc in the home directory; on Windows _netrc is preferred when it
// exists. The file need not exist.
func (e *Env) NetrcPath() (string, error) {
	return goauth.NetrcPath(e.OS)
}
