package retry

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"
)

func TestReadDetail(t *testing.T) {
	long := strings.Repeat("x", 700)
	for _, tc := range []struct {
		name, ctype, body, want string
	}{
		{"plain", "text/plain", "not found: m@v1\n", "not found: m@v1"},
		{"utf-8", "text/plain; charset=UTF-8", "gone: ünïcode", "gone: ünïcode"},
		{"crlf", "text/plain", "a\r\nb\r\n", "a\n\tb"},
		{"stops at blank line", "text/plain", "first\n\nsecond", "first"},
		{"html", "text/html", "<p>no</p>", ""},
		{"no type", "", "no", ""},
		{"latin-1", "text/plain; charset=iso-8859-1", "no", ""},
		{"invalid utf-8", "text/plain", "bad \xff byte", ""},
		{"escape sequence", "text/plain", "red \x1b[31m", ""},
		{"too many lines", "text/plain", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "1\n\t2\n\t3\n\t4\n\t5\n\t6\n\t7\n\t8\n\t[Truncated: too many lines.]"},
		{"too long", "text/plain", "short\n" + long, "short\n\t[Truncated: too long.]"},
	} {
		resp := reply(404, tc.body, "Content-Type", tc.ctype)
		if got := readDetail(resp); got != tc.want {
			t.Errorf("%s: readDetail = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	e := &Error{
		Method: "GET", URL: "https://proxy.test/m/@v/list", Class: NotFound,
		StatusCode: 404, Status: "404 Not Found", Detail: "line one\n\tline two",
		Attempts: 1, Err: &statusError{"404 Not Found"},
	}
	want := "GET https://proxy.test/m/@v/list: 404 Not Found\n\tserver response:\n\tline one\n\tline two"
	if e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
	if !errors.Is(e, fs.ErrNotExist) {
		t.Error("404 does not match fs.ErrNotExist")
	}
	e.Class, e.Detail, e.Attempts, e.Resumes, e.Elapsed = Server, "", 3, 2, 1500*time.Millisecond
	want = "GET https://proxy.test/m/@v/list: 404 Not Found (3 attempts, 2 resumes in 1.5s)"
	if e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
	if errors.Is(e, fs.ErrNotExist) {
		t.Error("a server error matches fs.ErrNotExist")
	}
}
