// Package modproxy serves the GOPROXY protocol from a [modnet.Client]: an
// http.Handler that puts modnet's route walk, retries, resumes and hedging
// behind one URL, so that the go command's own downloads survive the
// network. modfetch exec and modfetch serve run it on loopback for one go
// command or a shell session; examples/proxy runs it as a caching proxy.
// It is not a module cache and not a client: what it keeps between
// requests is its [Store]'s, and every fetch is the Client's.
//
// # Terms
//
// A [Server] answers the protocol's files one by one, each with the one
// upstream operation it needs:
//
//	<module>/@v/list              Client.List: the tagged versions
//	<module>/@latest              Client.Query "latest"
//	<module>/@v/<query>.info      Client.Query: a branch, tag, commit or prefix
//	<module>/@v/<version>.info    Client.Query: the version's metadata
//	<module>/@v/<version>.mod     Client.FetchGoMod (Client.GoMod if Verify)
//	<module>/@v/<version>.zip     Client.FetchZip (Client.Zip if Verify)
//	sumdb/<name>/supported        the checksum databases in SumDBs, proxied
//	sumdb/<name>/lookup/...       and cached
//	sumdb/<name>/tile/...
//	sumdb/<name>/latest
//
// so a go.mod is served wherever a proxy has the go.mod alone, and a go
// command that needs a version's go.mod never makes the server fetch its
// zip.
//
// A zip is streamed: without Verify, the requests waiting for a zip get its
// bytes as they arrive from upstream (with Content-Length when upstream
// announced it), so that a go command hashes and extracts it while it
// downloads instead of after. Retries and resumes upstream stay invisible:
// no byte is sent twice, and a transfer that starts over from byte 0 is
// read again up to what was sent and must match it. When upstream fails
// for good after the first byte, the response is broken off, so the client
// sees a failed transfer, never a short zip; the zip is stored only once
// it is complete, and the next request fetches it afresh. With Verify, a
// zip is verified whole before any of it is served.
//
// Module files are immutable and kept in a [Store] under their protocol
// paths; version lists and @latest are asked upstream every time, and the
// last good answer is served, marked stale, when upstream fails for any
// reason but "not found".
//
// A Server passes files through as its Client's route serves them, for
// clients that verify what they receive, as the go command does: its go.sum
// and checksum database then decide, with its own messages, and the server
// never locks anything in the client's module cache. With Verify set it
// verifies them first (go.sum, checksum database) and keeps them in its
// Client's module cache, for a proxy shared by clients that may not.
//
// # Errors
//
// "Not found" upstream (errors matching fs.ErrNotExist) is answered 404, so
// that the go command's fallback rules hold. Any other failure is answered
// 502 with modkit's error text, the failure's class and the attempts made,
// which the go command prints after "server response:".
//
// # Read-ahead
//
// With [Server.ReadAhead] set, serving a go.mod queues the go.mod files of
// its requirements to be fetched in the background, and [Server.FetchAhead]
// queues any file (modfetch exec queues what the working module's go.sum
// lists): bounded, deduplicated, limited per upstream host, through the
// same route walk, so a private path is never sent to a public proxy. The
// go command's next requests then find their files stored. A file fetched
// ahead is the file a request would have fetched, so read-ahead never
// changes what a client ends with. With [ReadAhead.MinLatency] it adapts
// to the upstream: nothing is fetched ahead while round trips upstream are
// too short for it to hide any waiting.
package modproxy
