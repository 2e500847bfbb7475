package druid

// Resource types Druid's basic authorizer knows.
const (
	ResourceDatasource   = "DATASOURCE"
	ResourceView         = "VIEW"
	ResourceConfig       = "CONFIG"
	ResourceState        = "STATE"
	ResourceSystemTable  = "SYSTEM_TABLE"
	ResourceQueryContext = "QUERY_CONTEXT"
	ResourceExternal     = "EXTERNAL"
	ResourceLookup       = "LOOKUP"
)

// Actions of a permission; WRITE does not imply READ.
const (
	ActionRead  = "READ"
	ActionWrite = "WRITE"
)

// Resource is what a permission applies to; Name is a (Java) regular expression matched against
// the whole resource name.
type Resource struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Permission is a resource and an action, the form POSTed to /roles/{role}/permissions and
// returned with ?simplifyPermissions.
type Permission struct {
	Resource Resource `json:"resource"`
	Action   string   `json:"action"`
}

// Credentials are the stored PBKDF2 credentials of an authenticator user.
type Credentials struct {
	Salt       []byte `json:"salt"`
	Hash       []byte `json:"hash"`
	Iterations int    `json:"iterations"`
}

// AuthenticatorUser is an authenticator (credential store) user; Credentials is nil until set.
type AuthenticatorUser struct {
	Name        string       `json:"name"`
	Credentials *Credentials `json:"credentials"`
}

// AuthorizerUser is an authorizer user with the names of its roles.
type AuthorizerUser struct {
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
}

// Role is an authorizer role: GET /roles/{role}?full with its permissions simplified.
type Role struct {
	Name        string       `json:"name"`
	Users       []string     `json:"users,omitempty"`
	Groups      []string     `json:"groups,omitempty"`
	Permissions []Permission `json:"permissions"`
}

// GroupMapping maps LDAP groups matching GroupPattern to roles.
type GroupMapping struct {
	Name         string   `json:"name"`
	GroupPattern string   `json:"groupPattern"`
	Roles        []string `json:"roles"`
}
