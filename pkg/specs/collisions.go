package specs

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Object names are "<cluster>-<suffix>": the cluster's own objects take fixed suffixes (ca,
// manager-int, ...) and each node group takes its name followed by the group suffixes ("",
// -headless, -tls, -config). Two different things of one cluster must never take the same name,
// whatever the kinds (a StatefulSet and a Secret of one name would be legal for the apiserver
// but read as one object by everyone else), so a node group name is refused when one of its
// names is a cluster-level name or a name of another group. The same names across clusters
// (cluster "a" group "b-common" and cluster "a-b"'s common ConfigMap) cannot be refused at
// admission; the ownership check of apply refuses them at runtime (NameConflict).

// ownedName is one name the objects of a cluster take, and what takes it.
type ownedName struct {
	// Name is the object name.
	Name string
	// What describes the objects, for messages.
	What string
	// Group is the node group that takes the name; empty for the cluster's own objects.
	Group string
}

// clusterNameFuncs are the names of a cluster's own objects (names.go and metadatatls.go), one
// entry per name function; names_test.go checks every such function is listed.
var clusterNameFuncs = []struct {
	what string
	name func(cluster string) string
}{
	{"the generated CA Secret", CASecretName},
	{"the client CA Secret", ClientCASecretName},
	{"the CA bundle ConfigMap", CABundleName},
	{"the manager's TLS Secret", ManagerTLSSecretName},
	{"the manager's Secret cert-manager issues into", ManagerIssuedTLSSecretName},
	{"the Druid credentials Secret", DruidCredentialsName},
	{"the metadata-store client certificate Secret", MetadataClientTLSName},
	{"the common ConfigMap", CommonConfigName},
	{"the security policy ConfigMap", SecurityPolicyConfigName},
	{"the manager Deployment and Service", ManagerName},
	{"the manager's internal Service", ManagerInternalServiceName},
	{"the revision key Secret", RevisionKeyName},
	{"the metadata-store TLS Secret", func(c string) string { return MetadataTLSSecretName(c, MetadataStoreDruid, false) }},
	{"the metadata-store client certificate Secret", func(c string) string { return MetadataTLSSecretName(c, MetadataStoreDruid, true) }},
	{"the manager's metadata-store TLS Secret", func(c string) string { return MetadataTLSSecretName(c, MetadataStoreManager, false) }},
	{"the manager's metadata-store client certificate Secret", func(c string) string { return MetadataTLSSecretName(c, MetadataStoreManager, true) }},
}

// groupNameFuncs are the names of a node group's objects, one entry per name function.
var groupNameFuncs = []struct {
	what string
	name func(cluster, group string) string
}{
	{"StatefulSet, client Service and PodDisruptionBudget", GroupName},
	{"headless Service", HeadlessServiceName},
	{"TLS Secret (and cert-manager Certificate)", GroupTLSSecretName},
	{"Secret cert-manager issues into", GroupIssuedTLSSecretName},
	{"ConfigMap", GroupConfigName},
}

// ownedNames lists every name the objects of cluster with the given node groups take. Cluster
// names that several functions share (two names for one Secret) are listed once.
func ownedNames(cluster string, groups []string) []ownedName {
	var out []ownedName
	seen := map[string]bool{}
	for _, f := range clusterNameFuncs {
		n := f.name(cluster)
		if !seen[n] {
			seen[n] = true
			out = append(out, ownedName{Name: n, What: f.what})
		}
	}
	for _, g := range groups {
		for _, f := range groupNameFuncs {
			out = append(out, ownedName{Name: f.name(cluster, g), What: fmt.Sprintf("the %s of node group %q", f.what, g), Group: g})
		}
	}
	return out
}

// NameCollision is a node group whose objects would take a name something else of the same
// cluster takes.
type NameCollision struct {
	// Group is the node group at fault (the later one, in spec order, of two groups).
	Group string
	// Index is Group's index in spec.nodeGroups.
	Index int
	// Name is the object name taken twice.
	Name string
	// Other describes what else takes it.
	Other string
	// OtherGroup is the node group that takes it too; empty when it is the cluster's own object.
	OtherGroup string
}

// Error is the message naming the field at fault.
func (c NameCollision) Error() string {
	return fmt.Sprintf("spec.nodeGroups[%d].name: node group %q would name an object %s, which is already %s; choose another name",
		c.Index, c.Group, c.Name, c.Other)
}

// NameCollisions lists every node group of groups (in spec order) whose objects would take a
// name that the cluster's own objects, or an earlier node group, take. A group is reported once
// per name it shares. Duplicate group names are not reported (the API's list-map refuses them).
func NameCollisions(cluster string, groups []string) []NameCollision {
	var out []NameCollision
	first := map[string]ownedName{}
	index := map[string]int{}
	for i, g := range groups {
		if _, dup := index[g]; !dup {
			index[g] = i
		}
	}
	for _, n := range ownedNames(cluster, groups) {
		prev, taken := first[n.Name]
		switch {
		case !taken:
			first[n.Name] = n
		case n.Group != "" && n.Group != prev.Group:
			out = append(out, NameCollision{Group: n.Group, Index: index[n.Group], Name: n.Name, Other: prev.What, OtherGroup: prev.Group})
		}
	}
	return out
}

// groupSuffixes are what the group name functions append to "<cluster>-<group>".
func groupSuffixes() []string {
	var out []string
	for _, f := range groupNameFuncs {
		out = append(out, strings.TrimPrefix(f.name("c", "g"), "c-g"))
	}
	return out
}

// ReservedNodeGroupNames are the node group names that make a name of the cluster's own objects
// (such as "manager-int", or "metadata", whose -tls Secret is the metadata store's), sorted. The
// CEL rule on spec.nodeGroups[].name lists exactly these (checked by a test).
func ReservedNodeGroupNames() []string {
	var out []string
	for _, n := range ownedNames("c", nil) {
		suffix := strings.TrimPrefix(n.Name, "c-")
		for _, gs := range groupSuffixes() {
			if g, ok := strings.CutSuffix(suffix, gs); ok && g != "" && !slices.Contains(out, g) {
				out = append(out, g)
			}
		}
	}
	sort.Strings(out)
	return out
}

// GroupNameSuffixes are the suffixes after a node group's name in its object names besides the
// group name itself ("-headless", "-tls", "-config"): a group named another group's name plus
// one of them collides with it. The CEL rule on spec.nodeGroups lists exactly these.
func GroupNameSuffixes() []string {
	var out []string
	for _, s := range groupSuffixes() {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
