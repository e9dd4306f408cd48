module example.com/root/tests

go 1.22

require example.com/root v0.0.0-00010101000000-000000000000

// The shapes of temporal's, thanos's and terraform's test modules: what
// this module replaces is required by the go.mod of the directory it
// replaces example.com/root with, not by this go.mod.
replace example.com/root => ../ // want placeholder `example.com/root/backend v0.0.0-00010101000000-000000000000, required by example.com/root \(\.\./\), was never published \(placeholder version, never published\), and this module does not replace example.com/root/backend: go list -m all, go build and go mod tidy fail fetching it, here and in every module that requires this one; add "replace example.com/root/backend => \.\./backend", as example.com/root's go.mod does`

replace example.com/sdk => example.com/sdk v1.42.0 // want downgrade `replace applies to example.com/sdk v1.44.0 required by example.com/root \(\.\./\): downgrades it to v1.42.0` wildcard `replace of every version of example.com/sdk applies to example.com/sdk v1.44.0 required by example.com/root \(\.\./\): builds example.com/sdk v1.42.0 in place of every version`

replace gopkg.in/alecthomas/kingpin.v2 => github.com/alecthomas/kingpin v1.3.8-0.20210301060133-17f40c25f497 // want fork `replace applies to gopkg.in/alecthomas/kingpin.v2 v2.2.6 required by example.com/root \(\.\./\): builds a different module, github.com/alecthomas/kingpin v1.3.8-0.20210301060133-17f40c25f497` wildcard "pin it to v2.2.6" pseudo-version "a pseudo-version"

replace example.com/nothing => ../nothing // want unused `example.com/nothing is not in this module's graph \(no module of the 5 in it requires example.com/nothing\)` local-escape "does not exist"
