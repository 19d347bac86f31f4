package unison

// BreakerState is the state of the circuit breaker towards Unison.
func (c *Client) BreakerState() string { return c.up.BreakerState() }
