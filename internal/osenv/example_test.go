package osenv_test

import (
	"fmt"
	"runtime"

	"github.com/modkit/modkit/internal/osenv"
)

func ExampleUserCacheDir() {
	if runtime.GOOS != "linux" {
		fmt.Println("/home/someone/.cache <nil>") // the rule shown is Linux's
		return
	}
	env := map[string]string{"HOME": "/home/someone"}
	fmt.Println(osenv.UserCacheDir(func(k string) string { return env[k] }))
	// Output: /home/someone/.cache <nil>
}
