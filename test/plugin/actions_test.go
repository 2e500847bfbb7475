package plugin

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"software.sslmate.com/src/go-pkcs12"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/plugin"
)

func get(t *testing.T, ns, name string) *implyv1alpha1.ImplyCluster {
	t.Helper()
	var c implyv1alpha1.ImplyCluster
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

func TestRestart(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t, "plugin-restart")
	createCluster(t, cluster("shop", ns))

	r := kubectlImply(t, "", "restart", "shop", "-n", ns)
	g.Expect(r.Code).To(Equal(0), r.Stderr)
	v := get(t, ns, "shop").Annotations[implyv1alpha1.AnnotationRestart]
	at, err := time.Parse(time.RFC3339Nano, v)
	g.Expect(err).NotTo(HaveOccurred(), "the restart value is an RFC 3339 time")
	g.Expect(at).To(BeTemporally("~", time.Now(), time.Minute))
	g.Expect(r.Stdout).To(ContainSubstring("Set imply.operator.dev/restart=" + v))
	g.Expect(r.Stdout).To(ContainSubstring("data -> query -> master -> manager"))
	g.Expect(r.Stdout).To(ContainSubstring("does not wait for a maintenance window"))

	// A second restart is a new value, even within the same second.
	r = kubectlImply(t, "", "restart", "shop", "-n", ns)
	g.Expect(r.Code).To(Equal(0), r.Stderr)
	g.Expect(get(t, ns, "shop").Annotations[implyv1alpha1.AnnotationRestart]).NotTo(Equal(v))
}

func TestRotateCA(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t, "plugin-rotate")
	c := createCluster(t, cluster("shop", ns))
	createCA(t, c, "")

	r := kubectlImply(t, "", "rotate-ca", "shop", "-n", ns)
	g.Expect(r.Code).To(Equal(0), r.Stderr)
	v := get(t, ns, "shop").Annotations[implyv1alpha1.AnnotationRotateCA]
	g.Expect(v).NotTo(BeEmpty())
	g.Expect(r.Stdout).To(ContainSubstring("Set imply.operator.dev/rotate-ca=" + v))
	g.Expect(r.Stdout).To(ContainSubstring("three phases"))
	// The cluster has a Saturday 02:00 window: the phases wait for it unless it is open now.
	g.Expect(r.Stdout).To(Or(ContainSubstring("it waits for the next maintenance window"), ContainSubstring("a maintenance window is open now")))

	// A CA that is the user's is not the operator's to rotate: nothing is written.
	user := cluster("byo", ns)
	user.Spec.Security.TLS = &implyv1alpha1.TLSSpec{Enabled: true, CA: &implyv1alpha1.CASpec{SecretRef: &implyv1alpha1.LocalObjectReference{Name: "my-ca"}}}
	createCluster(t, user)
	r = kubectlImply(t, "", "rotate-ca", "byo", "-n", ns)
	g.Expect(r.Code).To(Equal(plugin.ExitError))
	g.Expect(r.Stderr).To(ContainSubstring("comes from secret my-ca, not from the operator"))
	g.Expect(get(t, ns, "byo").Annotations).NotTo(HaveKey(implyv1alpha1.AnnotationRotateCA))
}

func TestRolloutPauseResume(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t, "plugin-pause")
	createCluster(t, cluster("shop", ns))

	r := kubectlImply(t, "", "rollout", "pause", "shop", "-n", ns)
	g.Expect(r.Code).To(Equal(0), r.Stderr)
	g.Expect(get(t, ns, "shop").Spec.Rollout.Paused).To(BeTrue())
	g.Expect(get(t, ns, "shop").Spec.Rollout.MaintenanceWindows).To(HaveLen(1), "the merge patch keeps the windows")
	g.Expect(r.Stdout).To(ContainSubstring("Every pod-template change is held"))

	r = kubectlImply(t, "", "status", "shop", "-n", ns)
	g.Expect(r.Stdout).To(ContainSubstring("paused: spec.rollout.paused holds every rollout"))

	r = kubectlImply(t, "", "rollout", "resume", "shop", "-n", ns)
	g.Expect(r.Code).To(Equal(0), r.Stderr)
	g.Expect(get(t, ns, "shop").Spec.Rollout.Paused).To(BeFalse())
	g.Expect(r.Stdout).To(ContainSubstring("Held changes roll in order data -> query -> master -> manager"))
}

func TestCA(t *testing.T) {
	g := NewWithT(t)
	ns := namespace(t, "plugin-ca")
	c := createCluster(t, cluster("shop", ns))
	kp := createCA(t, c, "")
	dir := t.TempDir()

	r := kubectlImply(t, "", "ca", "shop", "-n", ns)
	g.Expect(r.Code).To(Equal(0), r.Stderr)
	g.Expect(r.Stdout).To(Equal(string(kp.CertPEM)))
	for _, want := range []string{"macOS", "Windows", "Trusted Root Certification Authorities", "Linux"} {
		g.Expect(r.Stderr).To(ContainSubstring(want))
	}

	r = kubectlImply(t, dir, "ca", "shop", "-n", ns, "--format", "der", "-o", "ca.der")
	g.Expect(r.Code).To(Equal(0), r.Stderr)
	der, err := os.ReadFile(filepath.Join(dir, "ca.der"))
	g.Expect(err).NotTo(HaveOccurred())
	cert, err := x509.ParseCertificate(der)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cert.Equal(kp.Certificate)).To(BeTrue())
	g.Expect(r.Stdout).To(BeEmpty())

	r = kubectlImply(t, dir, "ca", "shop", "-n", ns, "--format", "p12", "-o", "ts.p12", "--password", "pw")
	g.Expect(r.Code).To(Equal(0), r.Stderr)
	p12, err := os.ReadFile(filepath.Join(dir, "ts.p12"))
	g.Expect(err).NotTo(HaveOccurred())
	certs, err := pkcs12.DecodeTrustStore(p12, "pw")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(certs).To(HaveLen(1))
	g.Expect(r.Stderr).To(ContainSubstring("javax.net.ssl.trustStore=ts.p12"))

	r = kubectlImply(t, dir, "ca", "shop", "-n", ns, "-o", "ca.crt")
	g.Expect(r.Code).To(Equal(0), r.Stderr)
	pemData, _ := os.ReadFile(filepath.Join(dir, "ca.crt"))
	block, _ := pem.Decode(pemData)
	g.Expect(block).NotTo(BeNil())

	// A cluster without its bundle yet: exit 3 naming the ConfigMap.
	createCluster(t, cluster("fresh", ns))
	r = kubectlImply(t, dir, "ca", "fresh", "-n", ns)
	g.Expect(r.Code).To(Equal(plugin.ExitNotFound))
	g.Expect(r.Stderr).To(ContainSubstring(`ConfigMap "fresh-ca-bundle" not found`))
}
