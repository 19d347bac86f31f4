package e2e

import (
	"net/http"
	"testing"

	apiclient "github.com/diminuendo/diminuendo/api/client"
)

// The REST slice through the generated Go client.
func TestRESTThroughGeneratedClient(t *testing.T) {
	g := startGateway(t, nil)
	ctx := withTimeout(t, 30e9)
	cl, err := apiclient.NewClientWithResponses("http://" + g.addr)
	if err != nil {
		t.Fatal(err)
	}

	h, err := cl.GetHealthWithResponse(ctx)
	if err != nil || h.StatusCode() != http.StatusOK || h.JSON200 == nil {
		t.Fatalf("health: %v %v", err, h)
	}
	if h.JSON200.Status != apiclient.HealthStatusOk {
		t.Fatalf("health status %s: %+v", h.JSON200.Status, h.JSON200.Dependencies)
	}
	if h.HTTPResponse.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("security headers missing: %v", h.HTTPResponse.Header)
	}

	me, err := cl.GetMeWithResponse(ctx)
	if err != nil || me.JSON200 == nil || me.JSON200.UserId != "dev-user-001" {
		t.Fatalf("me: %v %v", err, me)
	}

	name := "via rest"
	cr, err := cl.CreateSessionWithResponse(ctx, apiclient.CreateSessionJSONRequestBody{AgentType: "echo", Name: &name})
	if err != nil || cr.StatusCode() != http.StatusCreated || cr.JSON201 == nil {
		t.Fatalf("create: %v %s", err, cr.Body)
	}
	id := cr.JSON201.Id

	ls, err := cl.ListSessionsWithResponse(ctx, nil)
	if err != nil || ls.JSON200 == nil {
		t.Fatalf("list: %v", err)
	}
	found := false
	for _, s := range ls.JSON200.Sessions {
		found = found || s.Id == id && s.Name == name
	}
	if !found {
		t.Fatalf("created session not listed: %+v", ls.JSON200.Sessions)
	}

	gs, err := cl.GetSessionWithResponse(ctx, id)
	if err != nil || gs.JSON200 == nil || gs.JSON200.AgentType != "echo" {
		t.Fatalf("get: %v %s", err, gs.Body)
	}

	tr, err := cl.RunTurnWithResponse(ctx, id, apiclient.RunTurnJSONRequestBody{Text: "hi from rest"})
	if err != nil || tr.StatusCode() != http.StatusAccepted || tr.JSON202 == nil || !tr.JSON202.Accepted {
		t.Fatalf("run turn: %v %s", err, tr.Body)
	}

	// Errors share one shape and code set.
	missing, err := cl.GetSessionWithResponse(ctx, "ses_nope")
	if err != nil || missing.StatusCode() != http.StatusNotFound || missing.JSONDefault == nil ||
		missing.JSONDefault.Error.Code != apiclient.ErrorCodeSESSIONNOTFOUND {
		t.Fatalf("missing session: %v %s", err, missing.Body)
	}
	bad, err := cl.CreateSessionWithResponse(ctx, apiclient.CreateSessionJSONRequestBody{AgentType: ""})
	if err != nil || bad.StatusCode() != http.StatusBadRequest || bad.JSONDefault == nil ||
		bad.JSONDefault.Error.Code != apiclient.ErrorCodeINVALIDMESSAGE {
		t.Fatalf("invalid body: %v %s", err, bad.Body)
	}
}
