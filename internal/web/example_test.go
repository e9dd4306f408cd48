package web_test

import (
	"fmt"

	"github.com/modkit/modkit/internal/web"
)

func ExampleRedactList() {
	fmt.Println(web.RedactList("https://ghp_TOKEN@proxy.corp.example,https://user:hunter2@b.example|direct"))
	// Output: https://xxxxx@proxy.corp.example,https://xxxxx@b.example|direct
}
