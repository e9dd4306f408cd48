package retry

import (
	"fmt"
	"io"
	"net/http"
)

// DefaultGetLimit is the body size limit of GetBytes when the caller passes
// 0: far above any module proxy's .info, .mod, list or @latest answer.
const DefaultGetLimit = 32 << 20

// GetBytes sends the GET request req and returns the body of a 200 OK
// response, read completely into memory. Unlike Do, it also retries when
// reading the body fails (reset, truncation, stall, HTTP/2 stream error),
// by sending the request again: it is meant for small bodies. A body longer
// than limit bytes (0 means DefaultGetLimit) fails with class TooLarge.
//
// Any status other than 200 is an error, as in the go command's
// web.GetBytes (cmd/go/internal/web/api.go); the *Error carries the status
// and the server's plain-text explanation, and matches fs.ErrNotExist for
// 404 and 410.
func (c *Client) GetBytes(req *http.Request, limit int64) ([]byte, error) {
	c.init()
	if req.Method != "" && req.Method != http.MethodGet {
		return nil, fmt.Errorf("retry: GetBytes needs a GET request, not %s", req.Method)
	}
	if limit <= 0 {
		limit = DefaultGetLimit
	}
	k := c.newCall(req)
	var body []byte
	handler := func(resp *http.Response) error {
		if resp.StatusCode != http.StatusOK {
			return nil
		}
		defer resp.Body.Close()
		tooLarge := fmt.Errorf("%w: more than %d bytes", errTooLarge, limit)
		if resp.ContentLength > limit {
			return tooLarge
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
		if err != nil {
			return err
		}
		if int64(len(b)) > limit {
			return tooLarge
		}
		body = b
		return nil
	}
	resp, err := k.run(req, handler, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, k.statusFailure(resp)
	}
	k.succeed()
	return body, nil
}
