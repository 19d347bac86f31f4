package domain

import "testing"

// The expected matrix is written out in full so that any change to the RBAC
// table has to be made here too, on purpose.
func TestRBACMatrix(t *testing.T) {
	const Y, n = true, false
	cols := []Permission{
		PermSessionsCreate, PermSessionsRead, PermSessionsWrite, PermSessionsDelete,
		PermProjectsCreate, PermProjectsManage, PermMembersRead, PermMembersManage, PermIntegrationsManage,
		PermConfigManage, PermDeploymentsManage, PermAuditRead, PermBillingManage,
	}
	want := map[Role][13]bool{
		//            s.create s.read s.write s.delete p.create p.manage m.read m.manage i.manage c.manage d.manage a.read b.manage
		RoleOwner:     {Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y},
		RoleAdmin:     {Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, n},
		RoleDeveloper: {Y, Y, Y, n, Y, n, Y, n, n, n, n, n, n},
		RoleViewer:    {n, Y, n, n, n, n, Y, n, n, n, n, n, n},
		RoleGuest:     {n, Y, n, n, n, n, n, n, n, n, n, n, n},
	}
	if len(want) != len(AllRoles) {
		t.Fatalf("matrix has %d roles, domain has %d", len(want), len(AllRoles))
	}
	if len(cols) != len(AllPermissions) {
		t.Fatalf("matrix has %d permissions, domain has %d", len(cols), len(AllPermissions))
	}
	for _, r := range AllRoles {
		row, ok := want[r]
		if !ok {
			t.Fatalf("role %q missing from the expected matrix", r)
		}
		var granted []Permission
		for i, p := range cols {
			if got := r.Grants(p); got != row[i] {
				t.Errorf("%s.Grants(%s) = %v, want %v", r, p, got, row[i])
			}
			if row[i] {
				granted = append(granted, p)
			}
		}
		got := r.Permissions()
		if len(got) != len(granted) {
			t.Errorf("%s.Permissions() = %v, want %v", r, got, granted)
			continue
		}
		for i := range got {
			if got[i] != granted[i] {
				t.Errorf("%s.Permissions()[%d] = %s, want %s", r, i, got[i], granted[i])
			}
		}
	}
}

func TestRBACRejectsUnknown(t *testing.T) {
	if Role("superuser").Valid() || Role("").Valid() || Role("Owner").Valid() {
		t.Error("unknown roles must not be valid")
	}
	if Role("superuser").Grants(PermSessionsRead) {
		t.Error("an unknown role must grant nothing")
	}
	if RoleOwner.Grants(Permission("tenant.delete")) {
		t.Error("an unknown permission must be granted to no one")
	}
	for _, p := range AllPermissions {
		if !p.Valid() {
			t.Errorf("%s should be valid", p)
		}
	}
	if Permission("read:sessions").Valid() {
		t.Error("an Auth0-style scope is not one of the thirteen permissions")
	}
}

func TestIdentityRequire(t *testing.T) {
	id := Identity{Role: RoleViewer, Permissions: RoleViewer.Permissions()}
	if err := id.Require(PermSessionsRead); err != nil {
		t.Errorf("viewer should read sessions: %v", err)
	}
	err := id.Require(PermSessionsWrite)
	if KindOf(err) != KindForbidden {
		t.Errorf("viewer writing sessions: kind %v, want forbidden", KindOf(err))
	}
}

func TestIdentityRefreshKeepsUserAndTenant(t *testing.T) {
	a := Identity{UserID: "u", TenantID: "t", Role: RoleViewer}
	if err := a.Refresh(Identity{UserID: "u", TenantID: "t", Role: RoleAdmin}); err != nil {
		t.Fatalf("same user, new role: %v", err)
	}
	for _, next := range []Identity{{UserID: "v", TenantID: "t"}, {UserID: "u", TenantID: "x"}} {
		if err := a.Refresh(next); KindOf(err) != KindAuthFailed {
			t.Fatalf("%+v: %v", next, err)
		}
	}
}
