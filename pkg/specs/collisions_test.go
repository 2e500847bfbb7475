package specs

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"
)

func TestNameCollisions(t *testing.T) {
	for _, tc := range []struct {
		groups []string
		want   []string // "<index> <group> <name>"
	}{
		{[]string{"master", "query", "data"}, nil},
		{[]string{"master", "query", "data", "data-headless"}, []string{"3 data-headless c-data-headless"}},
		{[]string{"data-headless", "data"}, []string{"1 data c-data-headless"}},
		{[]string{"data", "data-tls", "data-config"}, []string{"1 data-tls c-data-tls", "2 data-config c-data-config"}},
		{[]string{"manager-int"}, []string{"0 manager-int c-manager-int"}},
		{[]string{"metadata-client"}, []string{"0 metadata-client c-metadata-client-tls"}},
		{[]string{"metadata"}, []string{"0 metadata c-metadata-tls"}},
		{[]string{"manager"}, []string{"0 manager c-manager", "0 manager c-manager-tls", "0 manager c-manager-tls-issued"}},
		{[]string{"data", "data-tls-issued"}, []string{"1 data-tls-issued c-data-tls-issued"}},
		{[]string{"manager-tls-issued"}, []string{"0 manager-tls-issued c-manager-tls-issued"}},
		{[]string{"common"}, []string{"0 common c-common-config"}},
		{[]string{"ca"}, []string{"0 ca c-ca"}},
		{[]string{"client-ca", "revision-key", "druid-credentials", "security-policy", "ca-bundle"}, []string{
			"0 client-ca c-client-ca", "1 revision-key c-revision-key", "2 druid-credentials c-druid-credentials",
			"3 security-policy c-security-policy", "4 ca-bundle c-ca-bundle",
		}},
		// Near misses are fine.
		{[]string{"data", "data-headless2", "datatls", "headless", "tls", "config", "cas", "manager2"}, nil},
	} {
		var got []string
		for _, c := range NameCollisions("c", tc.groups) {
			got = append(got, fmt.Sprintf("%d %s %s", c.Index, c.Group, c.Name))
			NewWithT(t).Expect(c.Error()).To(HavePrefix(fmt.Sprintf("spec.nodeGroups[%d].name: ", c.Index)))
		}
		NewWithT(t).Expect(got).To(Equal(tc.want), "%v", tc.groups)
	}
}

func TestNameCollisionMessageSaysWhatElseTakesTheName(t *testing.T) {
	got := NameCollisions("prod", []string{"data", "data-headless"})
	NewWithT(t).Expect(got).To(HaveLen(1))
	NewWithT(t).Expect(got[0].Error()).To(Equal(`spec.nodeGroups[1].name: node group "data-headless" would name an object prod-data-headless, ` +
		`which is already the headless Service of node group "data"; choose another name`))
}

// nameFuncs are every name function of the objects a cluster owns, by Go name. The parser test
// below fails when names.go or metadatatls.go gains one that is not here, and the next test when
// one of these is missing from the collision tables.
var nameFuncs = map[string]any{
	"CASecretName": CASecretName, "ClientCASecretName": ClientCASecretName, "CABundleName": CABundleName,
	"GroupTLSSecretName": GroupTLSSecretName, "ManagerTLSSecretName": ManagerTLSSecretName,
	"GroupIssuedTLSSecretName": GroupIssuedTLSSecretName, "ManagerIssuedTLSSecretName": ManagerIssuedTLSSecretName,
	"DruidCredentialsName": DruidCredentialsName, "MetadataClientTLSName": MetadataClientTLSName,
	"CommonConfigName": CommonConfigName, "GroupConfigName": GroupConfigName,
	"SecurityPolicyConfigName": SecurityPolicyConfigName, "ManagerName": ManagerName,
	"ManagerInternalServiceName": ManagerInternalServiceName, "GroupName": GroupName,
	"HeadlessServiceName": HeadlessServiceName, "RevisionKeyName": RevisionKeyName,
	"MetadataTLSSecretName": MetadataTLSSecretName,
}

func TestEveryNameFunctionIsKnown(t *testing.T) {
	g := NewWithT(t)
	for _, file := range []string{"names.go", "metadatatls.go"} {
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		g.Expect(err).NotTo(HaveOccurred())
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !fn.Name.IsExported() || fn.Type.Results == nil || len(fn.Type.Results.List) != 1 {
				continue
			}
			if id, ok := fn.Type.Results.List[0].Type.(*ast.Ident); !ok || id.Name != "string" {
				continue
			}
			params := fn.Type.Params.List
			if len(params) == 0 || len(params[0].Names) == 0 || params[0].Names[0].Name != "cluster" {
				continue // not an object name of a cluster (DruidRoleName)
			}
			g.Expect(nameFuncs).To(HaveKey(fn.Name.Name), "%s in %s names an object: add it to clusterNameFuncs or groupNameFuncs and to nameFuncs", fn.Name.Name, file)
		}
	}
}

func TestEveryNameFunctionIsInTheCollisionTables(t *testing.T) {
	g := NewWithT(t)
	listed := map[string]bool{}
	for _, n := range ownedNames("c", []string{"g"}) {
		listed[n.Name] = true
	}
	for name, f := range nameFuncs {
		var produced []string
		switch fn := f.(type) {
		case func(string) string:
			produced = []string{fn("c")}
		case func(string, string) string:
			produced = []string{fn("c", "g")}
		case func(string, MetadataStoreRole, bool) string:
			for _, role := range []MetadataStoreRole{MetadataStoreDruid, MetadataStoreManager} {
				produced = append(produced, fn("c", role, false), fn("c", role, true))
			}
		default:
			t.Fatalf("%s has an unexpected signature %T", name, f)
		}
		for _, p := range produced {
			g.Expect(listed).To(HaveKey(p), "%s makes %s, which the collision tables do not list", name, p)
		}
	}
}

// collidesByRule is the closed form the CRD's CEL rules encode: a reserved name, or another
// group's name plus a group suffix.
func collidesByRule(groups []string) bool {
	for _, a := range groups {
		if slices.Contains(ReservedNodeGroupNames(), a) {
			return true
		}
		for _, b := range groups {
			for _, s := range GroupNameSuffixes() {
				if b == a+s {
					return true
				}
			}
		}
	}
	return false
}

// candidateGroupNames are names built from every owned name: each cluster-level suffix, with
// each group suffix cut off, and random DNS labels.
func candidateGroupNames(r *rand.Rand) []string {
	set := map[string]bool{"data": true, "query": true, "master": true}
	for _, n := range ownedNames("c", []string{"data"}) {
		s := strings.TrimPrefix(n.Name, "c-")
		set[s] = true
		for _, gs := range groupSuffixes() {
			if cut, ok := strings.CutSuffix(s, gs); ok && cut != "" {
				set[cut] = true
			}
			set[s+gs] = true
		}
	}
	const letters = "abcdefghijklmnopqrstuvwxyz-"
	for range 200 {
		b := []byte{letters[r.IntN(26)]}
		for range r.IntN(12) {
			b = append(b, letters[r.IntN(len(letters))])
		}
		set[strings.TrimRight(string(b), "-")] = true
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// TestNameCollisionsMatchTheAdmissionRules checks, over every pair of candidate names, that
// the closed form of the CEL rules refuses exactly what NameCollisions finds, so admission
// refuses every collision the naming scheme makes and nothing else.
func TestNameCollisionsMatchTheAdmissionRules(t *testing.T) {
	names := candidateGroupNames(rand.New(rand.NewPCG(16, 1)))
	for _, a := range names {
		for _, b := range names {
			if a == b {
				continue
			}
			groups := []string{a, b}
			if got, want := len(NameCollisions("c", groups)) > 0, collidesByRule(groups); got != want {
				t.Fatalf("%v: NameCollisions says %v, the admission rules %v", groups, got, want)
			}
			for _, cluster := range []string{"c", "c-x", "prod"} {
				if got := len(NameCollisions(cluster, groups)) > 0; got != collidesByRule(groups) {
					t.Fatalf("cluster %s %v: the cluster name changes the answer", cluster, groups)
				}
			}
		}
	}
}

func TestReservedNodeGroupNames(t *testing.T) {
	NewWithT(t).Expect(ReservedNodeGroupNames()).To(Equal([]string{
		"ca", "ca-bundle", "client-ca", "common", "common-config", "druid-credentials", "manager", "manager-int",
		"manager-metadata", "manager-metadata-client", "manager-metadata-client-tls", "manager-metadata-tls", "manager-tls",
		"manager-tls-issued", "metadata", "metadata-client", "metadata-client-tls", "metadata-tls", "revision-key", "security-policy",
	}))
	NewWithT(t).Expect(GroupNameSuffixes()).To(Equal([]string{"-headless", "-tls", "-tls-issued", "-config"}))
}

// TestTheCRDRulesListTheReservedNames reads the generated CRD: the rule on a node group's name
// lists exactly ReservedNodeGroupNames, and the rule on the list exactly GroupNameSuffixes.
func TestTheCRDRulesListTheReservedNames(t *testing.T) {
	g := NewWithT(t)
	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "crd", "bases", "imply.operator.dev_implyclusters.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	var crd any
	g.Expect(yaml.Unmarshal(raw, &crd)).To(Succeed())
	rules := celRules(crd)
	quoted := make([]string, 0, len(ReservedNodeGroupNames()))
	for _, n := range ReservedNodeGroupNames() {
		quoted = append(quoted, "'"+n+"'")
	}
	g.Expect(rules).To(ContainElement("!(self in [" + strings.Join(quoted, ", ") + "])"))
	var sums []string
	for _, s := range GroupNameSuffixes() {
		sums = append(sums, "a.name + '"+s+"'")
	}
	g.Expect(rules).To(ContainElement("self.all(a, self.all(b, !(b.name in [" + strings.Join(sums, ", ") + "])))"))
}

// celRules collects the rule of every x-kubernetes-validations entry in a decoded document.
func celRules(doc any) []string {
	var out []string
	switch v := doc.(type) {
	case map[string]any:
		for k, child := range v {
			if k == "x-kubernetes-validations" {
				for _, rule := range child.([]any) {
					out = append(out, rule.(map[string]any)["rule"].(string))
				}
				continue
			}
			out = append(out, celRules(child)...)
		}
	case []any:
		for _, child := range v {
			out = append(out, celRules(child)...)
		}
	}
	return out
}
