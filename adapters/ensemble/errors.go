package ensemble

import (
	"errors"
	"fmt"

	"diminuendo/domain"
)

// statusError is a non-2xx answer of Ensemble, with its error body when it
// had one ({"error":{"code","message"}}).
type statusError struct {
	Status  int
	Code    string
	Message string
}

func (e *statusError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("ensemble answered %d", e.Status)
	}
	return fmt.Sprintf("ensemble answered %d %s: %s", e.Status, e.Code, e.Message)
}

// toDomain maps a failure to the domain error the app understands; this is
// the one place Ensemble's statuses are interpreted.
func toDomain(err error) error {
	if err == nil {
		return nil
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return err
	}
	var se *statusError
	if errors.As(err, &se) && se.Status < 500 && se.Status != 429 && se.Status != 401 && se.Status != 403 {
		return domain.Wrap(domain.KindInternal, "ensemble rejected the request", err)
	}
	// 5xx, 429, a refused credential (nothing a client can change; the
	// operator sees the cause in the log), the network, a timeout, the
	// breaker, an unreadable answer.
	return domain.ErrUpstream("ensemble", err)
}
