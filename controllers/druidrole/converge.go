package druidrole

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"sort"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/controllers/internal/claim"
	"github.com/imply-operator/imply-operator/controllers/internal/index"
	"github.com/imply-operator/imply-operator/pkg/druid"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// annotationOwnedGroupMappings records on a DruidRole, as a JSON array, the names of the Druid
// group mappings the operator created for it: only those are deleted when they leave the spec.
const annotationOwnedGroupMappings = "imply.operator.dev/owned-group-mappings"

// ownedGroupMappings reads annotationOwnedGroupMappings (nil when absent or unreadable).
func ownedGroupMappings(role *implyv1alpha1.DruidRole) []string {
	var names []string
	if v := role.Annotations[annotationOwnedGroupMappings]; v != "" {
		if err := json.Unmarshal([]byte(v), &names); err != nil {
			return nil
		}
	}
	return names
}

// setOwnedGroupMappings writes annotationOwnedGroupMappings when names differ from what it
// records, so the record is durable before Druid is changed.
func (r *Reconciler) setOwnedGroupMappings(ctx context.Context, before, role *implyv1alpha1.DruidRole, names []string) error {
	names = slices.Clone(names)
	sort.Strings(names)
	names = slices.Compact(names)
	if slices.Equal(names, ownedGroupMappings(role)) {
		return nil
	}
	data, err := json.Marshal(names)
	if err != nil {
		return err
	}
	return apply.PatchMetadata(ctx, r.Client, before, role, func() {
		if len(names) == 0 {
			delete(role.Annotations, annotationOwnedGroupMappings)
			return
		}
		if role.Annotations == nil {
			role.Annotations = map[string]string{}
		}
		role.Annotations[annotationOwnedGroupMappings] = string(data)
	})
}

// without returns names other than name.
func without(names []string, name string) []string {
	var out []string
	for _, n := range names {
		if n != name {
			out = append(out, n)
		}
	}
	return out
}

// desiredPermissions is the spec's permission set in Druid's form.
func desiredPermissions(role *implyv1alpha1.DruidRole) []druid.Permission {
	perms := make([]druid.Permission, 0, len(role.Spec.Permissions))
	for _, p := range role.Spec.Permissions {
		perms = append(perms, druid.Permission{
			Resource: druid.Resource{Name: p.Resource.Name, Type: string(p.Resource.Type)},
			Action:   string(p.Action),
		})
	}
	return perms
}

// samePermissions compares permission sets regardless of order.
func samePermissions(a, b []druid.Permission) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(p druid.Permission) string { return p.Resource.Type + "\x00" + p.Action + "\x00" + p.Resource.Name }
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i := range a {
		ka[i], kb[i] = key(a[i]), key(b[i])
	}
	sort.Strings(ka)
	sort.Strings(kb)
	return slices.Equal(ka, kb)
}

// converge makes the role in Druid match the spec. It reads first and writes only what differs.
// Problems with single users or group mappings do not stop the rest; they are joined.
func (r *Reconciler) converge(ctx context.Context, before, role *implyv1alpha1.DruidRole, api druid.API, authz string) error {
	name := specs.DruidRoleName(role)
	current, err := api.GetRole(ctx, authz, name)
	if druid.IsNotFound(err) {
		if err := api.CreateRole(ctx, authz, name); err != nil && !druid.IsAlreadyExists(err) {
			return err
		}
		current, err = api.GetRole(ctx, authz, name)
	}
	if err != nil {
		return err
	}

	var errs []error
	if want := desiredPermissions(role); !samePermissions(want, current.Permissions) {
		if err := api.SetPermissions(ctx, authz, name, want); err != nil {
			errs = append(errs, err)
		}
	}

	for _, user := range role.Spec.Users {
		if slices.Contains(current.Users, user) {
			continue
		}
		if err := api.AssignRole(ctx, authz, user, name); err != nil && !druid.IsAlreadyAssigned(err) {
			errs = append(errs, err)
		}
	}
	claimed, err := r.usersClaimingRole(ctx, role, name)
	if err != nil {
		return err
	}
	for _, user := range current.Users {
		if slices.Contains(role.Spec.Users, user) || claimed[user] {
			continue
		}
		if err := api.UnassignRole(ctx, authz, user, name); err != nil && !druid.IsNotAssigned(err) && !druid.IsNotFound(err) {
			errs = append(errs, err)
		}
	}

	if err := r.convergeGroupMappings(ctx, before, role, api, authz, current); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// usersClaimingRole is the usernames of the AuthTokens (type Druid) of the role's cluster that
// list the role in spec.roles: those assignments are the AuthToken's to make and undo, so the
// role keeps them although spec.users does not list them.
func (r *Reconciler) usersClaimingRole(ctx context.Context, role *implyv1alpha1.DruidRole, name string) (map[string]bool, error) {
	var tokens implyv1alpha1.AuthTokenList
	if err := index.List(ctx, r.Client, &tokens, role.Namespace, index.TokenCluster, role.Spec.ClusterRef.Name); err != nil {
		return nil, err
	}
	return usersClaiming(tokens.Items, role.Spec.ClusterRef.Name, name), nil
}

// usersClaiming is the usernames whose owning AuthToken (claim.Owner among the Druid tokens of
// cluster with that username) is not being deleted and lists role. An AuthToken that lost the
// claim to its username changes nothing in Druid, so it cannot keep an assignment either.
func usersClaiming(tokens []implyv1alpha1.AuthToken, cluster, role string) map[string]bool {
	var ofCluster []*implyv1alpha1.AuthToken
	for i := range tokens {
		t := &tokens[i]
		if t.Spec.Type == implyv1alpha1.AuthTokenDruid && t.Spec.ClusterRef != nil && t.Spec.ClusterRef.Name == cluster {
			ofCluster = append(ofCluster, t)
		}
	}
	claimed := map[string]bool{}
	byUsername := func(t *implyv1alpha1.AuthToken) string { return t.Spec.Username }
	for username, owner := range claim.OwnersByName(ofCluster, byUsername) {
		if owner.DeletionTimestamp.IsZero() && slices.Contains(owner.Spec.Roles, role) {
			claimed[username] = true
		}
	}
	return claimed
}

// convergeGroupMappings creates or repairs the spec's group mappings and assigns them the role;
// mappings that carry the role and are not listed lose it, and those the operator created are
// deleted once no role is left on them.
func (r *Reconciler) convergeGroupMappings(ctx context.Context, before, role *implyv1alpha1.DruidRole, api druid.API, authz string, current *druid.Role) error {
	name := specs.DruidRoleName(role)
	owned := ownedGroupMappings(role)
	var errs []error

	listed := map[string]bool{}
	for _, gm := range role.Spec.GroupMappings {
		listed[gm.Name] = true
		druidErr, err := r.convergeGroupMapping(ctx, before, role, api, authz, name, gm)
		if err != nil {
			return err
		}
		if druidErr != nil {
			errs = append(errs, druidErr)
		}
	}

	// Mappings that carry the role but are no longer listed, and owned ones that may linger.
	stale := map[string]bool{}
	for _, gm := range current.Groups {
		if !listed[gm] {
			stale[gm] = true
		}
	}
	for _, gm := range owned {
		if !listed[gm] {
			stale[gm] = true
		}
	}
	keep := slices.DeleteFunc(slices.Clone(ownedGroupMappings(role)), func(n string) bool { return stale[n] })
	for _, gm := range slices.Sorted(maps.Keys(stale)) {
		live, err := api.GetGroupMapping(ctx, authz, gm)
		if druid.IsNotFound(err) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			keep = append(keep, gm)
			continue
		}
		others := without(live.Roles, name)
		if slices.Contains(owned, gm) && len(others) == 0 {
			if err := api.DeleteGroupMapping(ctx, authz, gm); err != nil && !druid.IsNotFound(err) {
				errs = append(errs, err)
				keep = append(keep, gm)
			}
			continue
		}
		if len(others) != len(live.Roles) {
			if err := api.UnassignGroupMappingRole(ctx, authz, gm, name); err != nil && !druid.IsNotAssigned(err) && !druid.IsNotFound(err) {
				errs = append(errs, err)
			}
		}
		if slices.Contains(owned, gm) {
			keep = append(keep, gm) // still used by other roles: keep the record, it may go later
		}
	}
	if err := r.setOwnedGroupMappings(ctx, before, role, keep); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// convergeGroupMapping creates the spec's group mapping gm with role name, recreates it when
// its pattern differs (Druid cannot change one), or assigns it the role. druidErr is Druid's
// refusal, collected with the others; err an apiserver error, which stops the sync.
func (r *Reconciler) convergeGroupMapping(ctx context.Context, before, role *implyv1alpha1.DruidRole, api druid.API, authz, name string,
	gm implyv1alpha1.GroupMapping) (druidErr, err error) {
	live, err := api.GetGroupMapping(ctx, authz, gm.Name)
	switch {
	case druid.IsNotFound(err):
		if err := r.setOwnedGroupMappings(ctx, before, role, append(ownedGroupMappings(role), gm.Name)); err != nil {
			return nil, err
		}
		err := api.CreateGroupMapping(ctx, authz, druid.GroupMapping{Name: gm.Name, GroupPattern: gm.GroupPattern, Roles: []string{name}})
		if druid.IsAlreadyExists(err) {
			// Created meanwhile (another reconcile, or by hand): make sure it has the role;
			// its pattern is checked on the next resync.
			err = api.AssignGroupMappingRole(ctx, authz, gm.Name, name)
			if druid.IsAlreadyAssigned(err) {
				err = nil
			}
		}
		return err, nil
	case err != nil:
		return err, nil
	case live.GroupPattern != gm.GroupPattern:
		// Druid cannot change a mapping's pattern: recreate it with the roles it has.
		roles := append(without(live.Roles, name), name)
		if err := api.DeleteGroupMapping(ctx, authz, gm.Name); err != nil && !druid.IsNotFound(err) {
			return err, nil
		}
		if err := api.CreateGroupMapping(ctx, authz, druid.GroupMapping{Name: gm.Name, GroupPattern: gm.GroupPattern, Roles: roles}); err != nil && !druid.IsAlreadyExists(err) {
			return err, nil
		}
	case !slices.Contains(live.Roles, name):
		if err := api.AssignGroupMappingRole(ctx, authz, gm.Name, name); err != nil && !druid.IsAlreadyAssigned(err) {
			return err, nil
		}
	}
	return nil, nil
}
