package quoted

import (
	"fmt"
	"strings"
)

// Split splits s into fields as cmd/internal/quoted.Split does: fields
// separated by spaces, tabs, CR or LF, each optionally wrapped in single
// or double quotes, with no escapes.
func Split(s string) ([]string, error) {
	var fields []string
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		if s == "" {
			return fields, nil
		}
		if q := s[0]; q == '"' || q == '\'' {
			end := strings.IndexByte(s[1:], q)
			if end < 0 {
				return nil, fmt.Errorf("unterminated %c string", q)
			}
			fields = append(fields, s[1:1+end])
			s = s[2+end:]
			continue
		}
		end := strings.IndexAny(s, " \t\r\n")
		if end < 0 {
			end = len(s)
		}
		fields = append(fields, s[:end])
		s = s[end:]
	}
}
