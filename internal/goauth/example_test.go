package goauth_test

import (
	"fmt"

	"github.com/modkit/modkit/internal/goauth"
)

// The go command's netrc rules, quirks included: an entry is complete at
// its first machine, login and password; "default" ends the file.
func ExampleParseNetrc() {
	entries, ignored := goauth.ParseNetrc("machine a.example.com login me password tok\n" +
		"machine b.example.com login only\n" +
		"default\nmachine c.example.com login c password z\n")
	for _, e := range entries {
		fmt.Println(e.Machine, e.Complete())
	}
	fmt.Println("after default:", ignored)
	// Output:
	// a.example.com true
	// b.example.com false
	// after default: 1
}
