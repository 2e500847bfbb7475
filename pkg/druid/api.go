package druid

import "context"

// API is the basic-security API surface the operator uses. *Client implements it; reconcilers
// take an API so tests can substitute another implementation.
type API interface {
	// Authentication (credential store) of authenticator authn.
	CreateAuthenticatorUser(ctx context.Context, authn, user string) error
	DeleteAuthenticatorUser(ctx context.Context, authn, user string) error
	GetAuthenticatorUser(ctx context.Context, authn, user string) (*AuthenticatorUser, error)
	ListAuthenticatorUsers(ctx context.Context, authn string) ([]string, error)
	SetCredentials(ctx context.Context, authn, user, password string) error
	AuthenticationLoadStatus(ctx context.Context) (map[string]bool, error)

	// Authorization of authorizer authz.
	CreateAuthorizerUser(ctx context.Context, authz, user string) error
	DeleteAuthorizerUser(ctx context.Context, authz, user string) error
	GetAuthorizerUser(ctx context.Context, authz, user string) (*AuthorizerUser, error)
	ListAuthorizerUsers(ctx context.Context, authz string) ([]string, error)

	CreateRole(ctx context.Context, authz, role string) error
	DeleteRole(ctx context.Context, authz, role string) error
	GetRole(ctx context.Context, authz, role string) (*Role, error)
	ListRoles(ctx context.Context, authz string) ([]string, error)
	// SetPermissions replaces the role's whole permission set.
	SetPermissions(ctx context.Context, authz, role string, perms []Permission) error

	AssignRole(ctx context.Context, authz, user, role string) error
	UnassignRole(ctx context.Context, authz, user, role string) error

	CreateGroupMapping(ctx context.Context, authz string, gm GroupMapping) error
	DeleteGroupMapping(ctx context.Context, authz, name string) error
	GetGroupMapping(ctx context.Context, authz, name string) (*GroupMapping, error)
	ListGroupMappings(ctx context.Context, authz string) ([]string, error)
	AssignGroupMappingRole(ctx context.Context, authz, name, role string) error
	UnassignGroupMappingRole(ctx context.Context, authz, name, role string) error

	AuthorizationLoadStatus(ctx context.Context) (map[string]bool, error)
}

var _ API = (*Client)(nil)
