package unisonsim

import (
	"encoding/json"
	"net/http"

	"github.com/diminuendo/diminuendo/adapters/simkit"
)

// Limits the simulator enforces; the public docs give none (see
// docs/upstreams.md).
const (
	MaxValueBytes   = 1 << 20
	MaxKeyBytes     = 512
	MaxBatchOps     = 100
	DefaultPageSize = 100
	MaxPageSize     = 1000
	// maxBodyBytes leaves room for the envelope around a maximal value.
	maxBodyBytes      = MaxValueBytes + 64<<10
	maxBatchBodyBytes = 8 << 20
)

// Error codes of the {"error":{"code",...}} body.
const (
	CodeNotFound       = "not_found"
	CodeCASConflict    = "cas_conflict"
	CodeInvalidRequest = "invalid_request"
	CodeTooLarge       = "value_too_large"
	CodeUnauthorized   = "unauthorized"
	CodeInjected       = "injected_fault"
	CodeMethod         = "method_not_allowed"
)

type putBody struct {
	Value json.RawMessage `json:"value"`
	Actor string          `json:"actor"`
	CAS   *int64          `json:"cas"`
}

type batchOp struct {
	Op        string          `json:"op"`
	Namespace string          `json:"namespace"`
	Key       string          `json:"key"`
	Value     json.RawMessage `json:"value"`
	CAS       *int64          `json:"cas"`
}

type batchBody struct {
	Operations []batchOp `json:"operations"`
	Actor      string    `json:"actor"`
}

type errorBody struct {
	Code           string `json:"code"`
	Message        string `json:"message"`
	CurrentVersion *int64 `json:"currentVersion,omitempty"`
	Index          *int   `json:"index,omitempty"`
}

// writeOpError reports a refused write; index is shown only for batches.
func writeOpError(w http.ResponseWriter, err *opError, batch bool) {
	body := errorBody{Code: CodeCASConflict, Message: "version mismatch"}
	status := http.StatusConflict
	if err.missing {
		body = errorBody{Code: CodeNotFound, Message: "key not found"}
		status = http.StatusNotFound
	} else {
		body.CurrentVersion = &err.current
	}
	if batch {
		body.Index = &err.index
	}
	simkit.WriteJSON(w, status, map[string]errorBody{"error": body})
}
