package envcheck

import "context"

// A Check describes one check that [Run] can perform.
type Check struct {
	ID   string // stable identifier, such as "goproxy.syntax"
	Area string // heading the text report groups it under
	Live bool   // whether it uses the network (skipped by Options.Offline)
	Doc  string // one line: what it looks at
}

// Checks lists every check in report order.
func Checks() []Check {
	list := make([]Check, len(registry))
	for i, c := range registry {
		list[i] = Check{ID: c.id, Area: c.area, Live: c.live, Doc: c.doc}
	}
	return list
}

type check struct {
	id   string
	area string
	live bool
	doc  string
	run  func(ctx context.Context, r *runner) Result
}

// Areas, in report order.
const (
	areaToolchain = "Go toolchain"
	areaEnv       = "Environment"
	areaProxy     = "Module proxies"
	areaPrivate   = "Private modules"
	areaSumDB     = "Checksum database"
	areaCache     = "Caches"
	areaVendor    = "Vendoring"
	areaNetwork   = "Network"
)

var areaOrder = []string{areaToolchain, areaEnv, areaProxy, areaPrivate, areaSumDB, areaCache, areaVendor, areaNetwork}

// registry is every check, in report order within each area.
var registry = []*check{
	{id: "go.version", area: areaToolchain, doc: "go.mod's go and toolchain lines against the local go and GOTOOLCHAIN", run: checkGoVersion},

	{id: "env.goroot-defaults", area: areaEnv, doc: "$GOROOT/go.env exists and provides GOPROXY, GOSUMDB and GOTOOLCHAIN", run: checkGOROOTDefaults},
	{id: "env.goenv-file", area: areaEnv, doc: "GOENV file: empty X= lines that wipe a default, entries shadowed by the environment", run: checkGOENVFile},
	{id: "env.unknown-vars", area: areaEnv, doc: "misspelled GO* variables in the environment and the GOENV file", run: checkUnknownVars},
	{id: "goflags.parse", area: areaEnv, doc: "GOFLAGS splits into flags the go command knows", run: checkGOFLAGS},

	{id: "goproxy.syntax", area: areaProxy, doc: "GOPROXY: separators, schemes, empty list, off, entries that never run", run: checkGOPROXYSyntax},
	{id: "goproxy.fallback", area: areaProxy, doc: "GOPROXY ',' chains that do not fall back when a proxy fails", run: checkGOPROXYFallback},
	{id: "proxyenv.vars", area: areaProxy, doc: "HTTP_PROXY, HTTPS_PROXY, NO_PROXY, ALL_PROXY as the go command reads them", run: checkProxyVars},
	{id: "goproxy.reach", area: areaProxy, live: true, doc: "each GOPROXY entry answers a request for a public module", run: probeGOPROXY},
	{id: "proxyenv.reach", area: areaProxy, live: true, doc: "the HTTPS_PROXY in effect accepts CONNECT to the module endpoints", run: probeProxyEnv},

	{id: "private.patterns", area: areaPrivate, doc: "GOPRIVATE, GONOPROXY, GONOSUMDB, GOINSECURE patterns that can never match", run: checkPrivatePatterns},
	{id: "private.coverage", area: areaPrivate, doc: "go.mod requirements on private-looking hosts not covered by GOPRIVATE/GONOSUMDB", run: checkPrivateCoverage},
	{id: "goinsecure.misuse", area: areaPrivate, doc: "GOINSECURE patterns that do not do what they seem to", run: checkGOINSECURE},
	{id: "auth.netrc", area: areaPrivate, doc: "GOAUTH syntax, the netrc file, its entries and its mode", run: checkNetrc},
	{id: "direct.git", area: areaPrivate, doc: "git is installed when direct mode can be reached", run: checkGit},
	{id: "direct.insteadof", area: areaPrivate, live: true, doc: "each git insteadOf rule a private requirement takes reaches its host and authenticates without a prompt", run: probeInsteadOf},

	{id: "sumdb.off", area: areaSumDB, doc: "GOSUMDB=off disables verification for every module", run: checkSumDBOff},
	{id: "gosumdb.syntax", area: areaSumDB, doc: "GOSUMDB parses as name, key or key URL", run: checkGOSUMDBSyntax},
	{id: "sumdb.route", area: areaSumDB, live: true, doc: "the checksum database is reachable the way the go command finds it, and answers signed", run: probeSumDB},

	{id: "cache.gomodcache", area: areaCache, doc: "GOMODCACHE is absolute, writable by this user and has free space", run: checkGOMODCACHE},
	{id: "cache.gocache", area: areaCache, doc: "GOCACHE is absolute, writable by this user and has free space", run: checkGOCACHE},

	{id: "vendor.consistency", area: areaVendor, doc: "with vendoring in effect, vendor/modules.txt agrees with go.mod", run: checkVendor},

	{id: "dns.resolve", area: areaNetwork, live: true, doc: "the host names of proxies, the checksum database and private hosts resolve", run: probeDNS},
	{id: "tcp.connect", area: areaNetwork, live: true, doc: "TCP connections to those hosts (or to the HTTPS proxy) succeed", run: probeTCP},
	{id: "tls.verify", area: areaNetwork, live: true, doc: "their certificates verify; names the issuer and any TLS-intercepting proxy", run: probeTLS},
	{id: "tls.clock", area: areaNetwork, live: true, doc: "the local clock agrees with the servers' Date headers", run: probeClock},
}
