package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// shimClient calls the running service's shim API.
type shimClient struct {
	base  string // e.g. http://127.0.0.1:8090
	token string
	http  *http.Client
}

// errAPI is an error answer of the shim API.
type errAPI struct {
	Status  int
	Code    string
	Message string
}

func (e *errAPI) Error() string { return fmt.Sprintf("%s (HTTP %d %s)", e.Message, e.Status, e.Code) }

// errUnreachable: the service did not answer.
var errUnreachable = errors.New("shim API unreachable")

// requestTimeout bounds one API call.
const requestTimeout = 30 * time.Second

// newShimClient returns a client of the service at base (a URL, or
// SERVICE_ADDR's [host]:port, where an empty or wildcard host means this
// machine).
func newShimClient(base, token string) (*shimClient, error) {
	if !strings.Contains(base, "://") {
		host, port, err := net.SplitHostPort(base)
		if err != nil {
			return nil, fmt.Errorf("service address %q: %w", base, err)
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		base = "http://" + net.JoinHostPort(host, port)
	}
	if _, err := url.Parse(base); err != nil {
		return nil, fmt.Errorf("service URL: %w", err)
	}
	return &shimClient{base: strings.TrimSuffix(base, "/"), token: token, http: &http.Client{Timeout: requestTimeout}}, nil
}

// call sends method to path and decodes a 2xx JSON answer into out.
func (c *shimClient) call(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, nil)
	if err != nil {
		return err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%w at %s: %w", errUnreachable, c.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("read answer of %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var body struct {
			Error struct{ Code, Message string }
		}
		_ = json.Unmarshal(raw, &body)
		return &errAPI{Status: resp.StatusCode, Code: body.Error.Code, Message: body.Error.Message}
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode answer of %s %s: %w", method, path, err)
	}
	return nil
}

// exitFor is the exit code after err: ExitUsage when the service cannot be
// reached or refuses the token (configuration), ExitFailed for any other
// answer (no such execution, not cancellable, backend unavailable).
func exitFor(err error) int {
	var ae *errAPI
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, errUnreachable), errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
		return ExitUsage
	}
	return ExitFailed
}
