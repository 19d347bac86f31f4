package podium

import (
	"errors"
	"fmt"

	"diminuendo/domain"
)

// statusError is a non-2xx answer of Podium, with its error body when it
// had one ({"error":{"code","message"}}).
type statusError struct {
	Status  int
	Code    string
	Message string
}

func (e *statusError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("podium answered %d", e.Status)
	}
	return fmt.Sprintf("podium answered %d %s: %s", e.Status, e.Code, e.Message)
}

// toDomain maps a failure to the domain error the app understands; this is
// the one place Podium's statuses are interpreted.
func toDomain(err error, what string) error {
	if err == nil {
		return nil
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return err
	}
	var se *statusError
	if errors.As(err, &se) {
		switch {
		case se.Status == 404:
			return domain.Wrap(domain.KindNotFound, what+" not found", err)
		case se.Status == 400 && se.Code == "unknown_agent_type":
			return domain.Wrap(domain.KindInvalidMessage, "unknown agent type", err)
		case se.Status >= 500, se.Status == 429, se.Status == 401, se.Status == 403:
			// A refused credential is an outage to the client: nothing it
			// can change, and the operator sees the cause in the log.
			return domain.ErrUpstream("podium", err)
		default:
			return domain.Wrap(domain.KindInternal, "podium rejected the request", err)
		}
	}
	return domain.ErrUpstream("podium", err)
}
