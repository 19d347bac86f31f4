package domain

import "time"

// Member is one person's membership of a tenant, kept in Unison.
type Member struct {
	UserID  string    `json:"userId"`
	Email   string    `json:"email"`
	Role    Role      `json:"role"`
	AddedAt time.Time `json:"addedAt"`
}

// ErrMemberNotFound is what a member store reports for a member it does not
// hold, including one of another tenant.
func ErrMemberNotFound() *Error { return E(KindNotFound, "member not found") }
