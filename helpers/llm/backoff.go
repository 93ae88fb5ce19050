package llm

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// backoff returns the wait before the next attempt after the given failed
// attempt (1-based): full jitter over base·2^(attempt-1), raised to the
// server's Retry-After, and capped at the maximum delay.
func (c *Client) backoff(attempt int, retryAfter time.Duration) time.Duration {
	ceiling := c.maxDelay
	if shift := attempt - 1; shift < 32 && c.baseDelay<<shift > 0 && c.baseDelay<<shift < ceiling {
		ceiling = c.baseDelay << shift
	}
	d := time.Duration(0)
	if ceiling > 0 {
		d = rand.N(ceiling + 1)
	}
	return min(max(d, retryAfter), c.maxDelay)
}

// retryAfter parses a Retry-After header given in seconds or as an HTTP date;
// it returns 0 when the header is absent or unusable.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if secs, err := strconv.Atoi(h); err == nil {
		return max(time.Duration(secs)*time.Second, 0)
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
