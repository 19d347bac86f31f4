package simkit

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
)

// Authorized reports whether r carries "Authorization: Bearer <key>". An
// empty key lets every caller in.
func Authorized(r *http.Request, key string) bool {
	if key == "" {
		return true
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(tok), []byte(key)) == 1
}

// ErrorBody is the error answer every simulated service sends.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is an ErrorBody's content.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// WriteError answers status with {"error":{"code","message"}}.
func WriteError(w http.ResponseWriter, status int, code, msg string) {
	WriteJSON(w, status, ErrorBody{Error: ErrorDetail{Code: code, Message: msg}})
}

// WriteJSON answers status with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
