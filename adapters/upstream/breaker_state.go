package upstream

import "github.com/sony/gobreaker/v2"

// BreakerState is the circuit breaker's state as /api/health reports it:
// closed (calls pass), half-open (one probe may pass) or open (refused).
func (c *Client) BreakerState() string {
	switch c.breaker.State() {
	case gobreaker.StateOpen:
		return "open"
	case gobreaker.StateHalfOpen:
		return "half-open"
	}
	return "closed"
}
