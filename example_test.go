package modkit_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"syscall"

	"github.com/modkit/modkit/modnet"
	"github.com/modkit/modkit/retry"
)

// The packages work together: modnet decides where a module comes from,
// retry explains why a request failed, and the doctor (envcheck) and
// the analyzer build on both.
func Example() {
	env, err := modnet.LoadEnvFrom(map[string]string{
		"GOENV":     "off",
		"GOROOT":    "/nonexistent/goroot",
		"GOPROXY":   "https://proxy.example.com,direct",
		"GOPRIVATE": "git.corp.example.com",
		"GOSUMDB":   "off",
	})
	if err != nil {
		log.Fatal(err)
	}
	r, err := env.Route("git.corp.example.com/team/lib")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("sources:", r.Sources[0].Kind, "- private:", r.Private)

	// A refused connection, as a proxy that is down produces it.
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	class := retry.Classify(context.Background(), refused, nil)
	fmt.Println("class:", class, "- retried:", class.Retryable())
	// Output:
	// sources: direct - private: true
	// class: refused - retried: true
}
