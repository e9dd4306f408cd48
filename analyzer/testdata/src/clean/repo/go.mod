module example.com/clean

go 1.22

require (
	example.com/dep v1.2.0
	example.com/up v1.2.0
)

// A local copy with the fix for issue 12, until upstream releases it.
replace example.com/dep => ./third_party/dep

// Upstream released the fix in v1.3.0.
replace example.com/up v1.2.0 => example.com/up v1.3.0
