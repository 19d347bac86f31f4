package app

import (
	"context"
	"testing"

	"github.com/diminuendo/diminuendo/domain"
)

func TestSetAgentTypeBeforeTheFirstTurnOnly(t *testing.T) {
	hs := newHarness(t, nil)
	ctx := context.Background()
	meta, err := hs.hub.CreateSession(ctx, hs.owner, "coding-agent", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hs.hub.SetAgentType(ctx, hs.owner, meta.ID, "no-such-agent"); domain.KindOf(err) != domain.KindInvalidMessage {
		t.Fatalf("an agent type not offered: %v", err)
	}
	other := domain.Identity{UserID: "u9", TenantID: "t2", Role: domain.RoleOwner, Permissions: domain.RoleOwner.Permissions()}
	if _, err := hs.hub.SetAgentType(ctx, other, meta.ID, "echo"); domain.KindOf(err) != domain.KindSessionNotFound {
		t.Fatalf("another tenant's session: %v", err)
	}
	viewer := domain.Identity{UserID: "u2", TenantID: "t1", Role: domain.RoleViewer, Permissions: domain.RoleViewer.Permissions()}
	if _, err := hs.hub.SetAgentType(ctx, viewer, meta.ID, "echo"); domain.KindOf(err) != domain.KindForbidden {
		t.Fatalf("a viewer: %v", err)
	}
	got, err := hs.hub.SetAgentType(ctx, hs.owner, meta.ID, "echo")
	if err != nil || got.AgentType != "echo" {
		t.Fatalf("before the first turn: %+v, %v", got, err)
	}
	sub := newRecorder()
	if err := hs.hub.Join(ctx, hs.owner, JoinRequest{SessionID: meta.ID}, sub, snapFrame); err != nil {
		t.Fatal(err)
	}
	hs.turn(t, meta.ID, "said back", sub, 1)
	if evs := sub.events(); evs[len(evs)-1]["finalText"] != "said back" {
		t.Fatalf("the turn did not run on echo: %v", evs[len(evs)-1])
	}
	if _, err := hs.hub.SetAgentType(ctx, hs.owner, meta.ID, "coding-agent"); domain.KindOf(err) != domain.KindInvalidState {
		t.Fatalf("after the session started: %v", err)
	}
}
