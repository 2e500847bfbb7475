package admission

import (
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// createFromTestdata creates testdata/valid/<name> in a fresh namespace and reads it back into obj.
func createFromTestdata(name string, obj client.Object) {
	GinkgoHelper()
	m, err := readManifest(filepath.Join("testdata", "valid", name))
	Expect(err).NotTo(HaveOccurred())
	u := m.object.DeepCopy()
	u.SetNamespace(newNamespace())
	Expect(k8sClient.Create(ctx, u)).To(Succeed())
	Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(u), obj)).To(Succeed())
}

var _ = Describe("Defaults", func() {
	It("secure a minimal ImplyCluster: TLS on with a generated CA, one agent per group", func() {
		ic := &implyv1alpha1.ImplyCluster{}
		createFromTestdata("implycluster-minimal.yaml", ic)

		// spec.manager has no default of its own, so manager.replicas is defaulted only when
		// a manager block is given: nil must be read as 1.
		for _, g := range ic.Spec.NodeGroups {
			Expect(g.Replicas).To(HaveValue(Equal(int32(1))), "replicas of group %s", g.Name)
		}
		Expect(ic.Spec.Security).NotTo(BeNil())
		tls := ic.Spec.Security.TLS
		Expect(tls).NotTo(BeNil())
		Expect(tls.Enabled).To(BeTrue())
		Expect(tls.MinVersion).To(Equal("1.2"))
		Expect(tls.ClusterDomain).To(Equal("cluster.local"))
		Expect(tls.CA.SecretRef).To(BeNil())
		Expect(tls.CA.IssuerRef).To(BeNil())
		Expect(tls.CA.Generate).NotTo(BeNil())
		Expect(tls.CA.Generate.Validity).To(HaveValue(Equal(metav1.Duration{Duration: 26280 * time.Hour})))
		Expect(tls.CA.Generate.KeyAlgorithm).To(Equal(implyv1alpha1.KeyAlgorithmECDSAP256))
		Expect(tls.Certificate.Validity).To(HaveValue(Equal(metav1.Duration{Duration: 2160 * time.Hour})))
		Expect(tls.Certificate.RenewBefore).To(HaveValue(Equal(metav1.Duration{Duration: 720 * time.Hour})))
		Expect(tls.Certificate.KeyAlgorithm).To(Equal(implyv1alpha1.KeyAlgorithmECDSAP256))
		Expect(ic.Spec.Security.Auth).To(BeNil())
		Expect(ic.Spec.Rollout).To(BeNil())
	})

	It("keep TLS off when it is switched off", func() {
		ic := &implyv1alpha1.ImplyCluster{}
		createFromTestdata("implycluster-tls-off.yaml", ic)
		Expect(ic.Spec.Security.TLS.Enabled).To(BeFalse())
	})

	It("fill in an issuer's kind and group", func() {
		ic := &implyv1alpha1.ImplyCluster{}
		createFromTestdata("implycluster-edges.yaml", ic)
		Expect(ic.Spec.Security.TLS.CA.IssuerRef).NotTo(BeNil())
		Expect(ic.Spec.Security.TLS.CA.IssuerRef.Kind).To(Equal("ClusterIssuer"))
		Expect(ic.Spec.Security.TLS.CA.IssuerRef.Group).To(Equal("cert-manager.io"))
		Expect(ic.Spec.Rollout.UrgentBefore).To(HaveValue(Equal(metav1.Duration{})))
	})

	It("give an empty SecurityPolicy passwords of 12 to 128 characters", func() {
		sp := &implyv1alpha1.SecurityPolicy{}
		createFromTestdata("securitypolicy-empty.yaml", sp)
		Expect(sp.Spec.Password.MinLength).To(Equal(int32(12)))
		Expect(sp.Spec.Password.MaxLength).To(Equal(int32(128)))
		Expect(sp.Spec.LoginThrottling).To(BeNil())
	})

	It("delete a DruidRole's role from Druid with the object", func() {
		role := &implyv1alpha1.DruidRole{}
		createFromTestdata("druidrole-minimal.yaml", role)
		Expect(role.Spec.DeletionPolicy).To(Equal(implyv1alpha1.DeletionPolicyDelete))
	})
})
