package quoted_test

import (
	"fmt"

	"github.com/modkit/modkit/internal/quoted"
)

func ExampleSplit() {
	fields, err := quoted.Split(`corp-auth --realm 'Corp SSO' -v`)
	fmt.Printf("%q %v\n", fields, err)
	// Output: ["corp-auth" "--realm" "Corp SSO" "-v"] <nil>
}
