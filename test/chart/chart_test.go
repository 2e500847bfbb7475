package chart

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/imply-operator/imply-operator/test/testenv"
)

// ciValues are the values files of the chart's ci/ directory (chart-testing's convention).
func ciValues() []string {
	GinkgoHelper()
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), chartDir, "ci", "*-values.yaml"))
	Expect(err).NotTo(HaveOccurred())
	Expect(files).NotTo(BeEmpty())
	return files
}

// generatedRules are the rules controller-gen generated into config/rbac/role.yaml.
func generatedRules() []rbacv1.PolicyRule {
	GinkgoHelper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "rbac", "role.yaml"))
	Expect(err).NotTo(HaveOccurred())
	var role rbacv1.ClusterRole
	Expect(yaml.Unmarshal(bytes.TrimPrefix(data, []byte("---\n")), &role)).To(Succeed())
	Expect(role.Rules).NotTo(BeEmpty())
	return role.Rules
}

// rulesOf converts a rendered Role or ClusterRole's rules.
func rulesOf(role *unstructured.Unstructured) []rbacv1.PolicyRule {
	GinkgoHelper()
	var typed rbacv1.ClusterRole
	Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(role.Object, &typed)).To(Succeed())
	return typed.Rules
}

// expectNoWildcards fails when any Role or ClusterRole grants "*" verbs, resources, groups or names.
func expectNoWildcards(objs []*unstructured.Unstructured) {
	GinkgoHelper()
	roles := append(ofKind(objs, "Role"), ofKind(objs, "ClusterRole")...)
	Expect(roles).NotTo(BeEmpty())
	for _, role := range roles {
		for i, rule := range rulesOf(role) {
			for _, list := range [][]string{rule.Verbs, rule.Resources, rule.APIGroups, rule.ResourceNames, rule.NonResourceURLs} {
				for _, v := range list {
					Expect(v).NotTo(ContainSubstring("*"), "%s %s rule %d grants a wildcard: %+v", role.GetKind(), role.GetName(), i, rule)
				}
			}
		}
	}
}

// metricsAuthRules are what the secure metrics endpoint needs: checking a scraper's token and
// its permission to GET /metrics.
var metricsAuthRules = []rbacv1.PolicyRule{
	{APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"tokenreviews"}, Verbs: []string{"create"}},
	{APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"subjectaccessreviews"}, Verbs: []string{"create"}},
}

// expectOnlyMetricsAuthClusterWide checks that, with watchNamespaces, the one cluster-wide grant
// to the operator is <release>-metrics-auth: TokenReviews and SubjectAccessReviews, nothing else.
func expectOnlyMetricsAuthClusterWide(objs []*unstructured.Unstructured, release string) {
	GinkgoHelper()
	bindings := ofKind(objs, "ClusterRoleBinding")
	Expect(bindings).To(HaveLen(1), "ClusterRoleBindings: %v", kinds(bindings))
	Expect(bindings[0].GetName()).To(Equal(release + "-metrics-auth"))
	Expect(bindings[0].Object["roleRef"]).To(HaveKeyWithValue("name", release+"-metrics-auth"))
	var found bool
	for _, cr := range ofKind(objs, "ClusterRole") {
		if cr.GetName() == release+"-metrics-auth" {
			Expect(rulesOf(cr)).To(Equal(metricsAuthRules))
			found = true
		}
	}
	Expect(found).To(BeTrue(), "objects: %v", kinds(objs))
}

// expectRestrictedContainer checks the security settings of the operator Deployment itself.
func expectRestrictedContainer(deployment *unstructured.Unstructured) {
	GinkgoHelper()
	pod, _, err := unstructured.NestedMap(deployment.Object, "spec", "template", "spec")
	Expect(err).NotTo(HaveOccurred())
	Expect(pod).To(HaveKeyWithValue("securityContext", And(
		HaveKeyWithValue("runAsNonRoot", true),
		HaveKeyWithValue("seccompProfile", HaveKeyWithValue("type", "RuntimeDefault")))))
	c := managerContainer(deployment)
	Expect(c).To(HaveKeyWithValue("securityContext", And(
		HaveKeyWithValue("allowPrivilegeEscalation", false),
		HaveKeyWithValue("readOnlyRootFilesystem", true),
		HaveKeyWithValue("capabilities", HaveKeyWithValue("drop", ConsistOf("ALL"))))))
	Expect(c).To(HaveKeyWithValue("livenessProbe", HaveKeyWithValue("httpGet", HaveKeyWithValue("path", "/healthz"))))
	Expect(c).To(HaveKeyWithValue("readinessProbe", HaveKeyWithValue("httpGet", HaveKeyWithValue("path", "/readyz"))))
	Expect(stringsOf(c, "args")).To(ContainElement(HavePrefix("--leader-elect")))
}

var _ = Describe("The Helm chart", func() {
	It("passes helm lint --strict with its default values and with every ci/ values file", func() {
		_, err := run(nil, helmBinary(), "lint", "--strict", chartDir)
		Expect(err).NotTo(HaveOccurred())
		for _, f := range ciValues() {
			_, err := run(nil, helmBinary(), "lint", "--strict", chartDir, "-f", f)
			Expect(err).NotTo(HaveOccurred())
		}
	})

	It("packages with everything it renders from (files/, templates/crds/) and renders the same from the package", func() {
		dir := GinkgoT().TempDir()
		_, err := run(nil, helmBinary(), "package", chartDir, "--destination", dir)
		Expect(err).NotTo(HaveOccurred())
		packages, err := filepath.Glob(filepath.Join(dir, "imply-operator-*.tgz"))
		Expect(err).NotTo(HaveOccurred())
		Expect(packages).To(HaveLen(1))
		fromPackage, err := run(nil, helmBinary(), "template", "imply-operator", packages[0], "--namespace", "imply-system", "--include-crds")
		Expect(err).NotTo(HaveOccurred())
		Expect(string(fromPackage)).To(Equal(string(helmTemplate("imply-operator", "imply-system", "--include-crds"))))
		Expect(ofKind(decode(fromPackage), "CustomResourceDefinition")).To(HaveLen(4))
	})

	It("renders CRDs identical to config/crd/bases but for the keep policy, and ships the rules of config/rbac/role.yaml", func() {
		root := testenv.RepoRoot()
		bases, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(bases).NotTo(BeEmpty())
		templates, err := filepath.Glob(filepath.Join(root, chartDir, "templates", "crds", "*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(templates).To(HaveLen(len(bases)), "run `make manifests`")
		rendered := map[string]*unstructured.Unstructured{}
		for _, crd := range ofKind(decode(helmTemplate("imply-operator", "imply-system")), "CustomResourceDefinition") {
			rendered[crd.GetName()] = crd
		}
		Expect(rendered).To(HaveLen(len(bases)))
		for _, b := range bases {
			data, err := os.ReadFile(b)
			Expect(err).NotTo(HaveOccurred())
			want := decode(data)[0]
			got := rendered[want.GetName()]
			Expect(got).NotTo(BeNil(), "%s is not rendered: run `make manifests`", want.GetName())
			Expect(got.GetAnnotations()).To(HaveKeyWithValue("helm.sh/resource-policy", "keep"), "crds.keep is on by default")
			annotations := got.GetAnnotations()
			delete(annotations, "helm.sh/resource-policy")
			got.SetAnnotations(annotations)
			Expect(got.Object).To(Equal(want.Object), "%s differs from config/crd/bases: run `make manifests`", filepath.Base(b))
		}

		By("crds.keep=false: no keep policy; crds.install=false: no CRD")
		for _, crd := range ofKind(decode(helmTemplate("imply-operator", "imply-system", "--set", "crds.keep=false")), "CustomResourceDefinition") {
			Expect(crd.GetAnnotations()).NotTo(HaveKey("helm.sh/resource-policy"))
		}
		Expect(ofKind(decode(helmTemplate("imply-operator", "imply-system", "--set", "crds.install=false")), "CustomResourceDefinition")).To(BeEmpty())

		want, err := os.ReadFile(filepath.Join(root, "config", "rbac", "role.yaml"))
		Expect(err).NotTo(HaveOccurred())
		got, err := os.ReadFile(filepath.Join(root, chartDir, "files", "manager-role.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(got)).To(Equal(string(want)), "files/manager-role.yaml differs from config/rbac/role.yaml: run `make manifests`")
	})

	It("documents every value in README.md, and nothing that is not a value", func() {
		root := testenv.RepoRoot()
		data, err := os.ReadFile(filepath.Join(root, chartDir, "values.yaml"))
		Expect(err).NotTo(HaveOccurred())
		var values map[string]any
		Expect(yaml.Unmarshal(data, &values)).To(Succeed())
		readme, err := os.ReadFile(filepath.Join(root, chartDir, "README.md"))
		Expect(err).NotTo(HaveOccurred())
		documented := map[string]bool{}
		for _, m := range regexp.MustCompile("(?m)^\\| `([^`]+)` \\|").FindAllStringSubmatch(string(readme), -1) {
			documented[m[1]] = true
		}
		Expect(documented).NotTo(BeEmpty(), "README.md has no values table")

		// Each value is documented by its own row or by the row of the object holding it
		// (resources, securityContext, ...); a documented object has no documented children.
		var missing []string
		var walk func(prefix string, v any)
		walk = func(prefix string, v any) {
			if documented[prefix] {
				return
			}
			if m, ok := v.(map[string]any); ok && len(m) > 0 {
				for k, child := range m {
					walk(strings.TrimPrefix(prefix+"."+k, "."), child)
				}
				return
			}
			missing = append(missing, prefix)
		}
		walk("", values)
		sort.Strings(missing)
		Expect(missing).To(BeEmpty(), "values without a row in the README table")

		for key := range documented {
			v := any(values)
			for _, part := range strings.Split(key, ".") {
				m, ok := v.(map[string]any)
				Expect(ok).To(BeTrue(), "README documents %s, which values.yaml does not have", key)
				v, ok = m[part]
				Expect(ok).To(BeTrue(), "README documents %s, which values.yaml does not have", key)
			}
			for other := range documented {
				Expect(strings.HasPrefix(other, key+".")).To(BeFalse(), "README documents both %s and %s", key, other)
			}
		}
	})

	Context("with its default values", func() {
		const release, namespace = "imply-operator", "imply-system"
		var objs []*unstructured.Unstructured
		BeforeEach(func() {
			objs = decode(helmTemplate(release, namespace))
		})

		It("grants the operator exactly the generated rules, cluster-wide, with no wildcard", func() {
			expectNoWildcards(objs)
			var manager *unstructured.Unstructured
			for _, cr := range ofKind(objs, "ClusterRole") {
				if cr.GetName() == release+"-manager" {
					manager = cr
				}
			}
			Expect(manager).NotTo(BeNil(), "objects: %v", kinds(objs))
			Expect(rulesOf(manager)).To(Equal(generatedRules()))
			bindings := ofKind(objs, "ClusterRoleBinding")
			Expect(bindings).To(HaveLen(1))
			Expect(bindings[0].Object["subjects"]).To(ConsistOf(map[string]any{
				"kind": "ServiceAccount", "name": release, "namespace": namespace,
			}))
		})

		It("runs the operator with leader election in the release namespace and restricted security", func() {
			deployments := ofKind(objs, "Deployment")
			Expect(deployments).To(HaveLen(1))
			expectRestrictedContainer(deployments[0])
			args := stringsOf(managerContainer(deployments[0]), "args")
			Expect(args).To(ContainElements("--leader-elect=true", "--leader-election-namespace="+namespace))
			Expect(args).NotTo(ContainElement(HavePrefix("--watch-namespace")))

			roles := ofKind(objs, "Role")
			Expect(roles).To(HaveLen(1))
			Expect(roles[0].GetNamespace()).To(Equal(namespace))
			Expect(rulesOf(roles[0])).To(ContainElement(rbacv1.PolicyRule{
				APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"},
				ResourceNames: []string{leaseName}, Verbs: []string{"get", "update"},
			}))
		})

		It("exposes metrics through a Service and renders nothing for webhooks or ServiceMonitors", func() {
			services := ofKind(objs, "Service")
			Expect(services).To(HaveLen(1))
			Expect(services[0].GetName()).To(Equal(release + "-metrics"))
			svcPorts, _, err := unstructured.NestedSlice(services[0].Object, "spec", "ports")
			Expect(err).NotTo(HaveOccurred())
			Expect(svcPorts).To(ConsistOf(And(HaveKeyWithValue("name", "https-metrics"), HaveKeyWithValue("port", BeNumerically("==", 8443)),
				HaveKeyWithValue("targetPort", "metrics"))))
			for _, kind := range []string{"Certificate", "Issuer", "Secret", "ServiceMonitor", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"} {
				Expect(ofKind(objs, kind)).To(BeEmpty(), kind)
			}
			ports, _, err := unstructured.NestedSlice(managerContainer(ofKind(objs, "Deployment")[0]), "ports")
			Expect(err).NotTo(HaveOccurred())
			Expect(ports).NotTo(ContainElement(HaveKeyWithValue("name", "webhook-server")))
			Expect(ports).To(ContainElement(And(HaveKeyWithValue("name", "metrics"), HaveKeyWithValue("containerPort", BeNumerically("==", 8443)))))
		})

		It("serves metrics securely: --metrics-secure, a metrics-reader ClusterRole, and the review rules for the operator", func() {
			args := stringsOf(managerContainer(ofKind(objs, "Deployment")[0]), "args")
			Expect(args).To(ContainElements("--metrics-bind-address=:8443", "--metrics-secure=true"))
			Expect(args).NotTo(ContainElement(HavePrefix("--metrics-cert-dir")))
			var reader *unstructured.Unstructured
			for _, cr := range ofKind(objs, "ClusterRole") {
				if cr.GetName() == release+"-metrics-reader" {
					reader = cr
				}
			}
			Expect(reader).NotTo(BeNil(), "objects: %v", kinds(objs))
			Expect(rulesOf(reader)).To(Equal([]rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}}))
			Expect(generatedRules()).To(ContainElements(metricsAuthRules))
			Expect(generatedRules()).To(ContainElement(HaveField("Resources", ContainElement("implyclusters/finalizers"))))
		})

		It("is accepted by the apiserver, CRDs included (server-side dry-run)", func() {
			ensureNamespace(namespace, nil)
			serverSideDryRun(helmTemplate(release, namespace, "--include-crds"))
		})

		It("runs a Pod that Pod Security admission accepts at the restricted level", func() {
			expectRestrictedPod(ofKind(objs, "Deployment")[0])
		})
	})

	Context("with watchNamespaces, cert-manager, a webhook and a ServiceMonitor", func() {
		const release, namespace = "imply-operator", "imply-system"
		values := filepath.Join(testenv.RepoRoot(), chartDir, "ci", "watch-namespaces-cert-manager-values.yaml")
		var objs []*unstructured.Unstructured
		BeforeEach(func() {
			objs = decode(helmTemplate(release, namespace, "-f", values))
		})

		It("grants the generated rules in each watched namespace only, and cluster-wide only what the secure metrics endpoint needs", func() {
			expectNoWildcards(objs)
			expectOnlyMetricsAuthClusterWide(objs, release)
			for _, cr := range ofKind(objs, "ClusterRole") {
				Expect(cr.GetName()).NotTo(Equal(release+"-manager"), "a ClusterRole for the operator")
			}
			managerRoles := map[string][]rbacv1.PolicyRule{}
			for _, r := range ofKind(objs, "Role") {
				if r.GetName() == release+"-manager" {
					managerRoles[r.GetNamespace()] = rulesOf(r)
				}
			}
			Expect(managerRoles).To(HaveLen(2))
			Expect(managerRoles).To(HaveKeyWithValue("team-a", generatedRules()))
			Expect(managerRoles).To(HaveKeyWithValue("team-b", generatedRules()))
			for _, rb := range ofKind(objs, "RoleBinding") {
				Expect(rb.Object["subjects"]).To(ConsistOf(map[string]any{
					"kind": "ServiceAccount", "name": release, "namespace": namespace,
				}))
			}
			args := stringsOf(managerContainer(ofKind(objs, "Deployment")[0]), "args")
			Expect(args).To(ContainElement("--watch-namespace=team-a,team-b"))
		})

		It("issues the webhook serving certificate with cert-manager and mounts it", func() {
			certs := ofKind(objs, "Certificate")
			Expect(certs).To(HaveLen(1))
			secretName, _, _ := unstructured.NestedString(certs[0].Object, "spec", "secretName")
			dnsNames, _, _ := unstructured.NestedStringSlice(certs[0].Object, "spec", "dnsNames")
			Expect(dnsNames).To(ContainElement(release + "-webhook." + namespace + ".svc"))
			Expect(ofKind(objs, "Issuer")).To(HaveLen(1))
			Expect(ofKind(objs, "Secret")).To(BeEmpty(), "cert-manager writes the Secret")
			volumes, _, _ := unstructured.NestedSlice(ofKind(objs, "Deployment")[0].Object, "spec", "template", "spec", "volumes")
			Expect(volumes).To(ContainElement(HaveKeyWithValue("secret", HaveKeyWithValue("secretName", secretName))))
		})

		It("scrapes with a ServiceMonitor over HTTPS with Prometheus' ServiceAccount token", func() {
			monitors := ofKind(objs, "ServiceMonitor")
			Expect(monitors).To(HaveLen(1))
			endpoints, _, err := unstructured.NestedSlice(monitors[0].Object, "spec", "endpoints")
			Expect(err).NotTo(HaveOccurred())
			Expect(endpoints).To(ConsistOf(And(
				HaveKeyWithValue("port", "https-metrics"),
				HaveKeyWithValue("scheme", "https"),
				HaveKeyWithValue("path", "/metrics"),
				HaveKeyWithValue("bearerTokenFile", "/var/run/secrets/kubernetes.io/serviceaccount/token"),
				HaveKeyWithValue("tlsConfig", HaveKeyWithValue("insecureSkipVerify", true)),
				HaveKeyWithValue("honorLabels", true), // the operator's namespace label is the cluster's
			)))
		})

		It("is accepted by the apiserver, CRDs included (server-side dry-run)", func() {
			ensureNamespace(namespace, nil)
			ensureNamespace("team-a", nil)
			ensureNamespace("team-b", nil)
			serverSideDryRun(helmTemplate(release, namespace, "-f", values, "--include-crds"))
		})

		It("runs a Pod that Pod Security admission accepts at the restricted level", func() {
			expectRestrictedPod(ofKind(objs, "Deployment")[0])
		})
	})

	Context("with a webhook whose certificate the operator manages", func() {
		const release, namespace = "imply-operator", "imply-system"
		values := filepath.Join(testenv.RepoRoot(), chartDir, "ci", "operator-managed-webhook-cert-values.yaml")

		It("creates an empty Secret and lets the operator write that Secret only", func() {
			objs := decode(helmTemplate(release, namespace, "-f", values))
			expectNoWildcards(objs)
			Expect(ofKind(objs, "Certificate")).To(BeEmpty())
			secrets := ofKind(objs, "Secret")
			Expect(secrets).To(HaveLen(1))
			Expect(secrets[0].Object).NotTo(HaveKey("data"), "Helm must not overwrite what the operator writes")
			var found bool
			for _, r := range ofKind(objs, "Role") {
				for _, rule := range rulesOf(r) {
					if len(rule.Resources) == 1 && rule.Resources[0] == "secrets" {
						Expect(rule.ResourceNames).To(Equal([]string{secrets[0].GetName()}))
						found = true
					}
				}
			}
			Expect(found).To(BeTrue())
			ensureNamespace(namespace, nil)
			serverSideDryRun(helmTemplate(release, namespace, "-f", values))
		})
	})

	It("refuses values that cannot work", func() {
		for _, args := range [][]string{
			{"--set", "replicaCount=2", "--set", "leaderElection.enabled=false"},
			{"--set", "watchNamespaces[0]=Not_A_Namespace"},
			{"--set", "metrics.portt=1"},
			{"--set", "certManager.issuerRef.kind=ClusterIssuer"},
		} {
			_, err := run(nil, helmBinary(), append([]string{"template", "x", chartDir}, args...)...)
			Expect(err).To(HaveOccurred(), "helm template accepted %v", args)
		}
	})
})
