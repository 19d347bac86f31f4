package podium

import (
	"net/http"

	"github.com/diminuendo/diminuendo/adapters/upstream"
	"github.com/diminuendo/diminuendo/domain"
)

// toDomain maps a failure to the domain error the app understands. Podium's
// own refusals are read here; outages and every other refusal map as for
// any upstream (upstream.Client.ToDomain).
func (a *Adapter) toDomain(err error) error {
	return a.up.ToDomain(err, func(se *upstream.StatusError) error {
		switch {
		case se.Status == http.StatusNotFound && se.Code == "file_not_found":
			return domain.Wrap(domain.KindNotFound, "file not found", err)
		case se.Status == http.StatusNotFound:
			return domain.Wrap(domain.KindNotFound, "instance not found", err)
		case se.Status == http.StatusBadRequest && se.Code == "unknown_agent_type":
			return domain.Wrap(domain.KindInvalidMessage, "unknown agent type", err)
		}
		return nil
	})
}
