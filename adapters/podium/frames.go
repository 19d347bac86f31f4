package podium

import (
	"encoding/json"

	"github.com/diminuendo/diminuendo/domain"
)

// frameHead is what the adapter itself reads of a frame; the rest is left
// to the domain mapper, which gets the whole frame.
type frameHead struct {
	Seq     *uint64 `json:"seq"`
	TS      int64   `json:"ts"`
	Type    string  `json:"type"`
	Message string  `json:"message"`
}

// event decodes one frame. A frame that is not an event (a command_error
// reply, or garbage) is logged and reported !ok; it must never end a stream.
// Only sizes are logged, never content: frames carry user and agent text.
// An event is handed on as its raw JSON (raw must not be reused), which the
// domain reads typed on the per-event path; only a frame whose envelope is
// unusual is decoded here in full.
func (a *Adapter) event(instanceID string, raw []byte) (domain.UpstreamEvent, bool) {
	if up, ok := domain.ReadUpstream(raw); ok {
		return up, true
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		a.log.Warn("skipping a podium frame that is not a JSON object", "instance", instanceID, "bytes", len(raw))
		return domain.UpstreamEvent{}, false
	}
	var h frameHead
	if err := json.Unmarshal(raw, &h); err != nil {
		a.log.Warn("skipping a podium frame with a malformed seq or ts", "instance", instanceID, "bytes", len(raw))
		return domain.UpstreamEvent{}, false
	}
	if h.Seq == nil || *h.Seq == 0 {
		if h.Type == "command_error" {
			a.log.Warn("podium refused a command", "instance", instanceID, "reason", h.Message)
		} else {
			a.log.Warn("skipping a podium frame without seq", "instance", instanceID, "type", h.Type, "bytes", len(raw))
		}
		return domain.UpstreamEvent{}, false
	}
	return domain.UpstreamEvent{Seq: *h.Seq, TS: h.TS, Fields: fields}, true
}
