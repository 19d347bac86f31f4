package simkit

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
)

// Admit reports whether r carries "Authorization: Bearer <key>" (any r
// when key is empty). When it does not, Admit has answered it: 401
// {"error":{"code":"unauthorized"}}, as every simulated service does.
func Admit(w http.ResponseWriter, r *http.Request, key string) bool {
	if key == "" {
		return true
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if ok && subtle.ConstantTimeCompare([]byte(tok), []byte(key)) == 1 {
		return true
	}
	w.Header().Set("WWW-Authenticate", "Bearer")
	WriteError(w, http.StatusUnauthorized, "unauthorized", "missing or wrong API key")
	return false
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
