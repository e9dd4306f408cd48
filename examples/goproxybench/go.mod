module github.com/modkit/modkit/examples/goproxybench

go 1.25.0

require (
	github.com/goproxy/goproxy v0.21.0
	github.com/modkit/modkit v0.0.0-00010101000000-000000000000
	golang.org/x/mod v0.40.0
)

require (
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/hashicorp/go-retryablehttp v0.7.8 // indirect
	golang.org/x/net v0.58.0 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.41.0 // indirect
)

replace github.com/modkit/modkit => ../..
