package chart

import (
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/test/testenv"
)

// upgradeField is the field version 2 of the chart adds to the SecurityPolicy CRD's spec.
const upgradeField = "addedByTheUpgrade"

// chartCopy copies the chart to dir/name, where the test may change it.
func chartCopy(dir, name string) string {
	GinkgoHelper()
	dst := filepath.Join(dir, name)
	src := filepath.Join(testenv.RepoRoot(), chartDir)
	Expect(filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})).To(Succeed())
	return dst
}

// editFile replaces old, which must occur once, by new in path.
func editFile(path, old, new string) {
	GinkgoHelper()
	data, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	Expect(strings.Count(string(data), old)).To(Equal(1), "%q in %s", old, path)
	Expect(os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644)).To(Succeed())
}

var _ = Describe("The Helm chart's lifecycle with the project's helm against a real apiserver", Ordered, func() {
	const release, namespace = "imply", "imply-system"
	var (
		lcEnv      *envtest.Environment
		lcClient   client.Client
		kubeconfig string
		dir        string
	)
	helm := func(args ...string) string {
		GinkgoHelper()
		out, err := run(nil, helmBinary(), append(args, "--kubeconfig", kubeconfig, "--namespace", namespace)...)
		Expect(err).NotTo(HaveOccurred())
		return string(out)
	}
	crdOf := func(name string) *apiextensionsv1.CustomResourceDefinition {
		GinkgoHelper()
		var crd apiextensionsv1.CustomResourceDefinition
		Expect(lcClient.Get(ctx, client.ObjectKey{Name: name}, &crd)).To(Succeed())
		return &crd
	}
	// createPolicy creates a SecurityPolicy whose spec has upgradeField and returns it as stored.
	createPolicy := func(name string) *unstructured.Unstructured {
		GinkgoHelper()
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": implyv1alpha1.GroupVersion.String(), "kind": "SecurityPolicy",
			"metadata": map[string]any{"name": name, "namespace": "default"},
			"spec":     map[string]any{upgradeField: "kept", "password": map[string]any{"minLength": int64(16)}},
		}}
		Eventually(func() error { return lcClient.Create(ctx, u.DeepCopy()) }).WithTimeout(30 * time.Second).Should(Succeed())
		stored := &unstructured.Unstructured{}
		stored.SetGroupVersionKind(u.GroupVersionKind())
		Expect(lcClient.Get(ctx, client.ObjectKeyFromObject(u), stored)).To(Succeed())
		return stored
	}

	BeforeAll(func() {
		By("starting a kube-apiserver without the CRDs, which the chart installs")
		assets := os.Getenv("KUBEBUILDER_ASSETS")
		if assets == "" {
			assets = filepath.Join(testenv.RepoRoot(), "bin", "k8s")
		}
		lcEnv = &envtest.Environment{BinaryAssetsDirectory: assets}
		cfg, err := lcEnv.Start()
		Expect(err).NotTo(HaveOccurred())
		lcScheme := runtime.NewScheme()
		Expect(clientgoscheme.AddToScheme(lcScheme)).To(Succeed())
		Expect(apiextensionsv1.AddToScheme(lcScheme)).To(Succeed())
		lcClient, err = client.New(cfg, client.Options{Scheme: lcScheme})
		Expect(err).NotTo(HaveOccurred())
		admin, err := lcEnv.AddUser(envtest.User{Name: "helm-admin", Groups: []string{"system:masters"}}, nil)
		Expect(err).NotTo(HaveOccurred())
		data, err := admin.KubeConfig()
		Expect(err).NotTo(HaveOccurred())
		dir = GinkgoT().TempDir()
		kubeconfig = filepath.Join(dir, "kubeconfig")
		Expect(os.WriteFile(kubeconfig, data, 0o600)).To(Succeed())
		DeferCleanup(func() { Expect(lcEnv.Stop()).To(Succeed()) })
	})

	It("installs the CRDs, upgrades them with helm upgrade, and keeps them and the resources on helm uninstall", func() {
		By("helm install of version 1")
		v1 := chartCopy(dir, "v1")
		out := helm("install", release, v1, "--create-namespace", "--set", "replicaCount=2")
		Expect(out).To(ContainSubstring("kubectl imply status"), "NOTES.txt tells the next steps")
		Expect(out).To(ContainSubstring("`helm uninstall` keeps them"))
		crd := crdOf("securitypolicies.imply.operator.dev")
		Expect(crd.Annotations).To(HaveKeyWithValue("helm.sh/resource-policy", "keep"))
		Expect(crd.Annotations).To(HaveKeyWithValue("meta.helm.sh/release-name", release))
		var pdbs = &unstructured.UnstructuredList{}
		pdbs.SetAPIVersion("policy/v1")
		pdbs.SetKind("PodDisruptionBudgetList")
		Expect(lcClient.List(ctx, pdbs, client.InNamespace(namespace))).To(Succeed())
		Expect(pdbs.Items).To(HaveLen(1), "two replicas get a PodDisruptionBudget")

		By("a field version 1 does not know is pruned")
		before := createPolicy("before-upgrade")
		Expect(before.Object["spec"]).NotTo(HaveKey(upgradeField))

		By("helm upgrade to version 2, whose SecurityPolicy CRD has a new spec field")
		v2 := chartCopy(dir, "v2")
		editFile(filepath.Join(v2, "Chart.yaml"), "\nversion: ", "\nversion: 99.0.0\n# was: ")
		editFile(filepath.Join(v2, "templates", "crds", "imply.operator.dev_securitypolicies.yaml"),
			"\n              loginThrottling:\n",
			"\n              "+upgradeField+":\n                description: A field only version 2 of the chart has.\n                type: string\n              loginThrottling:\n")
		helm("upgrade", release, v2, "--set", "replicaCount=2")
		Expect(helm("list", "--short")).To(ContainSubstring(release))
		Eventually(func(g Gomega) {
			var crd apiextensionsv1.CustomResourceDefinition
			g.Expect(lcClient.Get(ctx, client.ObjectKey{Name: "securitypolicies.imply.operator.dev"}, &crd)).To(Succeed())
			g.Expect(crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"].Properties).To(HaveKey(upgradeField))
		}).WithTimeout(30 * time.Second).Should(Succeed())

		By("the new schema is served: the field is stored")
		Eventually(func(g Gomega) {
			after := createPolicy("after-upgrade-" + time.Now().Format("150405.000000000")[7:])
			g.Expect(after.Object["spec"]).To(HaveKeyWithValue(upgradeField, "kept"))
		}).WithTimeout(30 * time.Second).Should(Succeed())

		By("helm uninstall: the release's objects go, the CRDs and the custom resources stay")
		helm("uninstall", release)
		Eventually(func() bool {
			err := lcClient.Get(ctx, client.ObjectKey{Namespace: namespace, Name: release + "-imply-operator"}, &appsv1.Deployment{})
			return apierrors.IsNotFound(err)
		}).WithTimeout(30*time.Second).Should(BeTrue(), "the operator's Deployment is deleted")
		for _, name := range []string{"implyclusters", "authtokens", "securitypolicies", "druidroles"} {
			crd := crdOf(name + ".imply.operator.dev")
			Expect(crd.DeletionTimestamp).To(BeNil(), name)
		}
		var policies unstructured.UnstructuredList
		policies.SetGroupVersionKind(implyv1alpha1.GroupVersion.WithKind("SecurityPolicyList"))
		Expect(lcClient.List(ctx, &policies, client.InNamespace("default"))).To(Succeed())
		Expect(len(policies.Items)).To(BeNumerically(">=", 2), "the SecurityPolicies outlive the release")
	})
})
