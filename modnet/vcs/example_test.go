package vcs_test

import (
	"context"
	"fmt"
	"log"

	"github.com/modkit/modkit/modnet/vcs"
)

// ResolveImportPath answers where the code for an import path lives.
// Paths on well-known hosts need no network access.
func ExampleResolveImportPath() {
	rr, err := vcs.ResolveImportPath(context.Background(), "github.com/user/repo/sub/pkg", vcs.DiscoverOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rr.Root)
	fmt.Println(rr.VCS, rr.Repo)
	// Output:
	// github.com/user/repo
	// git https://github.com/user/repo
}

// A GOVCS policy decides which version control tools may run for which
// repositories; the go command's defaults follow the user's rules.
func ExampleParseGOVCS() {
	p, err := vcs.ParseGOVCS("github.com:git,*.corp.example.com:git|svn")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p)
	fmt.Println(p.Check("svn", "svn.corp.example.com/tools", false))
	fmt.Println(p.Check("svn", "example.org/lib", false))
	fmt.Println(p.Check("svn", "example.org/lib", true)) // private: GOPRIVATE matches
	// Output:
	// github.com:git,*.corp.example.com:git|svn,private:all,public:git|hg
	// <nil>
	// GOVCS disallows using svn for public example.org/lib; see 'go help vcs'
	// <nil>
}
