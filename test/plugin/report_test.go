package plugin

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/imply-operator/imply-operator/pkg/specs"
)

// readArchive returns the files of a .tar.gz by path below its top directory.
func readArchive(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			files[h.Name[strings.Index(h.Name, "/")+1:]] = string(data)
		}
	}
}

// The report holds the cluster's resources, owned objects, Secrets as metadata only, events and the
// operator's log lines about the cluster, and no value of any Secret in the namespace: neither as
// is, nor base64-encoded, nor a line of a PEM key.
func TestReportHoldsNoSecretValue(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := namespace(t, "plugin-report")
	c := createCluster(t, cluster("shop", ns))
	createCA(t, c, "")
	druidUser(t, ns, "pivot-sales", "shop", "sales", "report-user-password-7Qx")
	druidRole(t, ns, "sales-read", "shop")
	labels := map[string]string{specs.LabelCluster: "shop", specs.LabelManagedBy: specs.ManagedBy}
	for _, s := range []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Name: specs.DruidCredentialsName("shop"), Namespace: ns, Labels: labels},
			Data: map[string][]byte{"admin-password": []byte("report-admin-password-Zk2"), "internal-client-password": []byte("report-internal-password-W9e")}},
		{ObjectMeta: metav1.ObjectMeta{Name: "shop-data-tls", Namespace: ns, Labels: labels}, Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{"keystore-password": []byte("report-keystore-password-Lm4")}},
		// As `kubectl apply` leaves it: the whole Secret, values included, in an annotation.
		{ObjectMeta: metav1.ObjectMeta{Name: "applied", Namespace: ns, Labels: labels, Annotations: map[string]string{
			"kubectl.kubernetes.io/last-applied-configuration": `{"apiVersion":"v1","kind":"Secret","stringData":{"token":"report-applied-token-Pp8"}}`}},
			StringData: map[string]string{"token": "report-applied-token-Pp8"}},
	} {
		g.Expect(k8s.Create(ctx, s)).To(Succeed())
	}
	g.Expect(k8s.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "shop-common-config", Namespace: ns, Labels: labels},
		Data: map[string]string{"common.runtime.properties": "druid.zk.service.host=zk:2181\n"}})).To(Succeed())
	for _, e := range []corev1.Event{
		{ObjectMeta: metav1.ObjectMeta{Name: "shop.1", Namespace: ns}, Type: corev1.EventTypeNormal, Reason: "CAGenerated", Message: "Generated a CA for the report test",
			InvolvedObject: corev1.ObjectReference{Kind: "ImplyCluster", Namespace: ns, Name: "shop"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "other.1", Namespace: ns}, Type: corev1.EventTypeNormal, Reason: "Other", Message: "an event about something else",
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: "unrelated"}},
	} {
		g.Expect(k8s.Create(ctx, &e)).To(Succeed())
	}
	dir := t.TempDir()
	logFile := filepath.Join(dir, "operator.log")
	g.Expect(os.WriteFile(logFile, []byte(strings.Join([]string{
		`{"level":"info","msg":"Reconciled","ImplyCluster":{"name":"shop","namespace":"plugin-report"}}`,
		`{"level":"info","msg":"Reconciled","ImplyCluster":{"name":"other","namespace":"plugin-report"}}`,
	}, "\n")), 0o600)).To(Succeed())

	r := kubectlImply(t, dir, "report", "shop", "-n", ns, "-o", "shop.tar.gz", "--operator-log", logFile)
	g.Expect(r.Code).To(Equal(0), r.Stderr)
	g.Expect(r.Stdout).To(ContainSubstring("Wrote shop.tar.gz"))
	files := readArchive(t, filepath.Join(dir, "shop.tar.gz"))

	for _, want := range []string{
		"README.txt", "status.txt", "imply/shop.yaml", "imply/authtokens/pivot-sales.yaml", "imply/druidroles/sales-read.yaml",
		"objects/configmap/shop-ca-bundle.yaml", "objects/configmap/shop-common-config.yaml",
		"objects/secret/shop-ca.yaml", "objects/secret/shop-druid-credentials.yaml", "objects/secret/shop-data-tls.yaml",
		"objects/secret/applied.yaml", "objects/secret/pivot-sales-credentials.yaml", "events.yaml", "operator.log",
	} {
		g.Expect(files).To(HaveKey(want))
	}
	g.Expect(files["events.yaml"]).To(ContainSubstring("Generated a CA for the report test"))
	g.Expect(files["events.yaml"]).NotTo(ContainSubstring("an event about something else"))
	g.Expect(files["operator.log"]).To(ContainSubstring(`"name":"shop"`))
	g.Expect(files["operator.log"]).NotTo(ContainSubstring(`"name":"other"`))
	g.Expect(files["status.txt"]).To(ContainSubstring("ImplyCluster plugin-report/shop"))

	// Secrets: metadata only.
	for name, data := range files {
		if !strings.HasPrefix(name, "objects/secret/") {
			continue
		}
		var obj map[string]any
		g.Expect(yaml.Unmarshal([]byte(data), &obj)).To(Succeed())
		g.Expect(obj).To(HaveKey("metadata"), name)
		g.Expect(obj).NotTo(HaveKey("data"), name)
		g.Expect(obj).NotTo(HaveKey("stringData"), name)
	}
	g.Expect(files["objects/secret/shop-ca.yaml"]).To(ContainSubstring(specs.LabelCluster))

	// No value of any Secret of the namespace, as the apiserver holds them, anywhere in the archive.
	var secrets corev1.SecretList
	g.Expect(k8s.List(ctx, &secrets, client.InNamespace(ns))).To(Succeed())
	var needles []string
	for _, s := range secrets.Items {
		for _, v := range s.Data {
			if strings.HasPrefix(string(v), "-----BEGIN CERTIFICATE") {
				continue // a public certificate, also in the CA bundle ConfigMap
			}
			needles = append(needles, string(v), base64.StdEncoding.EncodeToString(v))
			for _, line := range strings.Split(string(v), "\n") {
				if len(line) >= 16 && !strings.HasPrefix(line, "-----") {
					needles = append(needles, line)
				}
			}
		}
	}
	g.Expect(len(needles)).To(BeNumerically(">", 10), "the test has secret values to look for")
	for name, data := range files {
		for _, n := range needles {
			if len(n) >= 8 && strings.Contains(data, n) {
				t.Errorf("%s holds a secret value (%d bytes)", name, len(n))
			}
		}
	}
	// Without --operator-log and with no operator pod, the report says where the log lines are missing from.
	r = kubectlImply(t, dir, "report", "shop", "-n", ns, "-o", "nolog.tar.gz")
	g.Expect(r.Code).To(Equal(0), r.Stderr)
	nolog := readArchive(t, filepath.Join(dir, "nolog.tar.gz"))
	g.Expect(nolog).NotTo(HaveKey("operator.log"))
	g.Expect(nolog["README.txt"]).To(ContainSubstring("no pod labelled app.kubernetes.io/name=imply-operator found; pass --operator-log"))

	// The public CA certificate is in the report (the bundle ConfigMap); only keys and passwords are secret.
	g.Expect(files["objects/configmap/shop-ca-bundle.yaml"]).To(ContainSubstring("BEGIN CERTIFICATE"))
}
