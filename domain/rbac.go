package domain

import "slices"

// Role is a tenant member's role; the five are levelled, owner highest.
type Role string

// Permission is one capability checked by the app use cases.
type Permission string

const (
	RoleOwner     Role = "owner"
	RoleAdmin     Role = "admin"
	RoleDeveloper Role = "developer"
	RoleViewer    Role = "viewer"
	RoleGuest     Role = "guest"
)

const (
	PermSessionsCreate     Permission = "sessions.create"
	PermSessionsRead       Permission = "sessions.read"
	PermSessionsWrite      Permission = "sessions.write"
	PermSessionsDelete     Permission = "sessions.delete"
	PermProjectsCreate     Permission = "projects.create"
	PermProjectsManage     Permission = "projects.manage"
	PermMembersRead        Permission = "members.read"
	PermMembersManage      Permission = "members.manage"
	PermIntegrationsManage Permission = "integrations.manage"
	PermConfigManage       Permission = "config.manage"
	PermDeploymentsManage  Permission = "deployments.manage"
	PermAuditRead          Permission = "audit.read"
	PermBillingManage      Permission = "billing.manage"
)

// roleLevel orders the roles; a permission is granted to every role at or
// above its minimum level.
var roleLevel = map[Role]int{RoleGuest: 1, RoleViewer: 2, RoleDeveloper: 3, RoleAdmin: 4, RoleOwner: 5}

// AllPermissions lists the thirteen permissions in a stable order.
var AllPermissions = []Permission{
	PermSessionsCreate, PermSessionsRead, PermSessionsWrite, PermSessionsDelete,
	PermProjectsCreate, PermProjectsManage, PermMembersRead, PermMembersManage, PermIntegrationsManage,
	PermConfigManage, PermDeploymentsManage, PermAuditRead, PermBillingManage,
}

// AllRoles lists the five roles from highest to lowest.
var AllRoles = []Role{RoleOwner, RoleAdmin, RoleDeveloper, RoleViewer, RoleGuest}

// minRole is the RBAC table: the lowest role that holds each permission.
// A guest reads sessions shared with it; a viewer reads the tenant's, and
// its member list. A guest may be someone from outside the tenant: the
// members' emails and roles are not for it.
var minRole = map[Permission]Role{
	PermSessionsCreate:     RoleDeveloper,
	PermSessionsRead:       RoleGuest,
	PermSessionsWrite:      RoleDeveloper,
	PermSessionsDelete:     RoleAdmin,
	PermProjectsCreate:     RoleDeveloper,
	PermProjectsManage:     RoleAdmin,
	PermMembersRead:        RoleViewer,
	PermMembersManage:      RoleAdmin,
	PermIntegrationsManage: RoleAdmin,
	PermConfigManage:       RoleAdmin,
	PermDeploymentsManage:  RoleAdmin,
	PermAuditRead:          RoleAdmin,
	PermBillingManage:      RoleOwner,
}

// Valid reports whether r is one of the five roles.
func (r Role) Valid() bool { _, ok := roleLevel[r]; return ok }

// Grants reports whether role r holds permission p.
func (r Role) Grants(p Permission) bool {
	min, ok := minRole[p]
	if !ok {
		return false
	}
	return roleLevel[r] >= roleLevel[min]
}

// Permissions lists what role r holds, in AllPermissions order, in a slice
// of its own (the caller may edit it) and of exactly its length: every
// verified token gets one, and a connection keeps it as long as it lives.
func (r Role) Permissions() []Permission {
	return slices.Clone(rolePermissions[r])
}

// rolePermissions is Permissions' table, worked out once from minRole.
var rolePermissions = func() map[Role][]Permission {
	m := make(map[Role][]Permission, len(AllRoles))
	for _, r := range AllRoles {
		var out []Permission
		for _, p := range AllPermissions {
			if r.Grants(p) {
				out = append(out, p)
			}
		}
		m[r] = slices.Clip(out)
	}
	return m
}()

// Valid reports whether p is one of the thirteen permissions.
func (p Permission) Valid() bool { _, ok := minRole[p]; return ok }

// Outranks reports whether r is strictly above o.
func (r Role) Outranks(o Role) bool { return roleLevel[r] > roleLevel[o] }
