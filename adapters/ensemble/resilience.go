package ensemble

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/sony/gobreaker/v2"
)

// newBreaker guards all of Ensemble with one breaker: the gateway calls
// one route of it, so there is nothing to tell apart.
func newBreaker(cfg Config, log *slog.Logger) *gobreaker.CircuitBreaker[any] {
	return gobreaker.NewCircuitBreaker[any](gobreaker.Settings{
		Name:        "ensemble",
		MaxRequests: 1,
		Timeout:     cfg.BreakerCooldown,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= cfg.BreakerFailures },
		// A 4xx is Ensemble working as designed; only outages count.
		IsSuccessful: func(err error) bool { return err == nil || !transient(err) },
		IsExcluded:   func(err error) bool { var g *callerGone; return errors.As(err, &g) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			log.Warn("ensemble circuit breaker changed state", "from", from.String(), "to", to.String())
		},
	})
}

// callerGone marks a failure caused by the caller's context ending; it says
// nothing about Ensemble's health.
type callerGone struct{ err error }

func (e *callerGone) Error() string { return e.err.Error() }
func (e *callerGone) Unwrap() error { return e.err }

// transient reports whether err is worth a retry: the network, a timeout
// or Ensemble itself failed (5xx, 429). Ensemble's own routing treats other
// 4xx as final, and so do we.
func transient(err error) bool {
	if err == nil {
		return false
	}
	var se *statusError
	if errors.As(err, &se) {
		return se.Status >= 500 || se.Status == 429
	}
	var g *callerGone
	return !errors.As(err, &g)
}

func breakerOpen(err error) bool {
	return errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests)
}

// get runs one GET through the breaker with a per-attempt timeout, retried
// on transient failures with exponential backoff and jitter. Every call the
// adapter makes is a read, so every one may be retried.
func get[T any](ctx context.Context, a *Adapter, fn func(context.Context) (T, error)) (T, error) {
	b := &backoff.ExponentialBackOff{
		InitialInterval:     a.cfg.RetryInitial,
		RandomizationFactor: 0.5,
		Multiplier:          2,
		MaxInterval:         a.cfg.RetryMax,
	}
	op := func() (T, error) {
		v, err := attempt(ctx, a, fn)
		if err != nil && (!transient(err) || breakerOpen(err)) {
			return v, backoff.Permanent(err)
		}
		return v, err
	}
	return backoff.Retry(ctx, op,
		backoff.WithBackOff(b),
		backoff.WithMaxTries(uint(a.cfg.MaxAttempts)),
		backoff.WithMaxElapsedTime(0), // bounded by tries and ctx instead
		backoff.WithNotify(func(err error, next time.Duration) {
			a.log.Debug("retrying ensemble request", "error", err.Error(), "backoff", next)
		}),
	)
}

func attempt[T any](ctx context.Context, a *Adapter, fn func(context.Context) (T, error)) (T, error) {
	actx, cancel := context.WithTimeout(ctx, a.cfg.Timeout)
	defer cancel()
	v, err := a.breaker.Execute(func() (any, error) {
		v, err := fn(actx)
		if err != nil && ctx.Err() != nil {
			err = &callerGone{err}
		}
		return v, err
	})
	t, _ := v.(T)
	return t, err
}
