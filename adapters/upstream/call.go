package upstream

import (
	"context"
	"errors"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/sony/gobreaker/v2"
)

// newBreaker guards the whole service with one breaker: its routes share
// hosts and a gateway, so one failing route predicts the others.
func newBreaker(cfg Config) *gobreaker.CircuitBreaker[any] {
	return gobreaker.NewCircuitBreaker[any](gobreaker.Settings{
		Name:        cfg.Service,
		MaxRequests: 1,
		Timeout:     cfg.BreakerCooldown,
		ReadyToTrip: func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= cfg.BreakerFailures },
		// A 4xx is the service working as designed; only outages count.
		IsSuccessful: func(err error) bool { return !transient(err) },
		IsExcluded:   func(err error) bool { var g *callerGone; return errors.As(err, &g) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			cfg.Logger.Warn(cfg.Service+" circuit breaker changed state", "from", from.String(), "to", to.String())
		},
	})
}

// Call runs fn through the breaker with a per-attempt timeout. With retry,
// transient failures are tried again, up to MaxAttempts, after jittered
// exponential pauses; without, fn runs once: the adapter says so for a call
// whose repeat could duplicate or undo what an earlier attempt did. An open
// breaker answers at once with ErrBreakerOpen.
func Call[T any](ctx context.Context, c *Client, retry bool, fn func(context.Context) (T, error)) (T, error) {
	tries := uint(1)
	if retry {
		tries = uint(c.cfg.MaxAttempts)
	}
	op := func() (T, error) {
		v, err := attempt(ctx, c, fn)
		if err == nil {
			return v, nil
		}
		if !transient(err) {
			return v, backoff.Permanent(err)
		}
		return v, c.pause(err)
	}
	return backoff.Retry(ctx, op,
		backoff.WithBackOff(&backoff.ExponentialBackOff{
			InitialInterval:     c.cfg.RetryInitial,
			RandomizationFactor: 0.5,
			Multiplier:          2,
			MaxInterval:         c.cfg.RetryMax,
		}),
		backoff.WithMaxTries(tries),
		backoff.WithMaxElapsedTime(0), // bounded by tries and ctx instead
		backoff.WithNotify(func(err error, next time.Duration) {
			c.cfg.Logger.Debug("retrying "+c.cfg.Service+" request", "error", err.Error(), "backoff", next)
		}),
	)
}

// CallJSON is Call of one exchange whose 2xx answer is decoded into a T.
func CallJSON[T any](ctx context.Context, c *Client, retry bool, req Request) (T, error) {
	return Call(ctx, c, retry, func(ctx context.Context) (T, error) {
		var out T
		err := c.SendJSON(ctx, req, &out)
		return out, err
	})
}

// pause applies an honoured Retry-After to a transient failure: it becomes
// the next pause, or, beyond RetryMax, ends the call rather than wait.
func (c *Client) pause(err error) error {
	var se *StatusError
	if !errors.As(err, &se) || se.RetryAfter <= 0 {
		return err
	}
	if se.RetryAfter > c.cfg.RetryMax {
		return backoff.Permanent(err)
	}
	return errors.Join(err, &backoff.RetryAfterError{Duration: se.RetryAfter})
}

func attempt[T any](ctx context.Context, c *Client, fn func(context.Context) (T, error)) (T, error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	v, err := c.breaker.Execute(func() (any, error) {
		v, err := fn(actx)
		if err != nil && ctx.Err() != nil {
			err = &callerGone{err}
		}
		return v, err
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		err = ErrBreakerOpen
	}
	t, _ := v.(T)
	return t, err
}
