package chart

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/imply-operator/imply-operator/test/testenv"
)

const (
	// chartDir is the chart under test, relative to the repository root.
	chartDir = "charts/imply-operator"
	// fieldManager is the field manager of what the suite applies, as `helm install` would.
	fieldManager = "helm"
	// leaseName is the leader-election Lease, LeaderElectionID in main.go.
	leaseName = "imply-operator.imply.operator.dev"
)

// helmBinary is the helm that `make tools` builds.
func helmBinary() string { return filepath.Join(testenv.RepoRoot(), "bin", "helm") }

// kubectlBinary is the kubectl of the control plane `make sim-assets` builds.
func kubectlBinary() string {
	if assets := os.Getenv("KUBEBUILDER_ASSETS"); assets != "" {
		if _, err := os.Stat(filepath.Join(assets, "kubectl")); err == nil {
			return filepath.Join(assets, "kubectl")
		}
	}
	return filepath.Join(testenv.RepoRoot(), "bin", "kubectl")
}

// run runs a command in the repository root and returns its stdout, failing with its stderr.
func run(stdin []byte, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = testenv.RepoRoot()
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%s %s: %w\n%s%s", filepath.Base(name), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.Bytes(), nil
}

// buildOperator builds main.go into path, as `make build` does.
func buildOperator(path string) {
	GinkgoHelper()
	_, err := run(nil, "go", "build", "-o", path, ".")
	Expect(err).NotTo(HaveOccurred())
}

// helmTemplate renders the chart as release in namespace with the given extra helm arguments.
func helmTemplate(release, namespace string, args ...string) []byte {
	GinkgoHelper()
	out, err := run(nil, helmBinary(), append([]string{"template", release, chartDir, "--namespace", namespace}, args...)...)
	Expect(err).NotTo(HaveOccurred())
	return out
}

// kubectl runs kubectl as the suite's admin against the test control plane.
func kubectl(stdin []byte, args ...string) ([]byte, error) {
	return run(stdin, kubectlBinary(), append([]string{"--kubeconfig", adminKubeconfig}, args...)...)
}

// decode splits a multi-document YAML stream into objects, skipping empty documents.
func decode(manifests []byte) []*unstructured.Unstructured {
	GinkgoHelper()
	var objs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifests), 4096)
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		Expect(err).NotTo(HaveOccurred())
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
	return objs
}

// ofKind returns the objects of kind.
func ofKind(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// kinds returns "Kind namespace/name" of every object, for failure messages and assertions.
func kinds(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, fmt.Sprintf("%s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName()))
	}
	return out
}

// ensureNamespace creates a namespace unless it exists, with the given labels.
func ensureNamespace(name string, labels map[string]string) {
	GinkgoHelper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if err := k8sClient.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		Expect(err).NotTo(HaveOccurred())
	}
}

// serverSideDryRun applies manifests with `kubectl apply --server-side --dry-run=server` and
// checks the apiserver accepted every object.
func serverSideDryRun(manifests []byte) {
	GinkgoHelper()
	objs := decode(manifests)
	Expect(objs).NotTo(BeEmpty())
	out, err := kubectl(manifests, "apply", "--server-side", "--dry-run=server", "--force-conflicts",
		"--field-manager="+fieldManager, "-f", "-")
	Expect(err).NotTo(HaveOccurred(), "the apiserver rejected the manifests")
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	GinkgoWriter.Printf("server-side dry-run:\n%s\n", out)
	Expect(lines).To(HaveLen(len(objs)), "one result per object:\n%s", out)
	for _, l := range lines {
		Expect(l).To(HaveSuffix("serverside-applied (server dry run)"))
	}
}

// applyForReal applies objects server-side, as `helm install` creates them.
func applyForReal(objs []*unstructured.Unstructured) {
	GinkgoHelper()
	for _, o := range objs {
		Expect(k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()),
			client.FieldOwner(fieldManager), client.ForceOwnership)).To(Succeed(), "applying %s %s", o.GetKind(), o.GetName())
	}
}

// managerContainer returns the operator container of a rendered Deployment.
func managerContainer(deployment *unstructured.Unstructured) map[string]any {
	GinkgoHelper()
	containers, found, err := unstructured.NestedSlice(deployment.Object, "spec", "template", "spec", "containers")
	Expect(err).NotTo(HaveOccurred())
	Expect(found).To(BeTrue())
	for _, c := range containers {
		if m, ok := c.(map[string]any); ok && m["name"] == "manager" {
			return m
		}
	}
	Fail("the Deployment has no container named manager")
	return nil
}

// stringsOf returns field of m as []string.
func stringsOf(m map[string]any, field ...string) []string {
	GinkgoHelper()
	list, _, err := unstructured.NestedStringSlice(m, field...)
	Expect(err).NotTo(HaveOccurred())
	return list
}
