package implycluster

import (
	"context"
	"testing"
	"time"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// issuerCluster is a test cluster whose CA is the cert-manager ClusterIssuer "corp-issuer".
func issuerCluster() *implyv1alpha1.ImplyCluster {
	c := testobj.ImplyCluster("c", "ns", withIssuer())
	c.Spec.Security.TLS.CA.IssuerRef.Kind = "ClusterIssuer"
	c.Spec.Security.TLS.Certificate = implyv1alpha1.CertificateSpec{
		Validity: &metav1.Duration{Duration: 2160 * time.Hour}, RenewBefore: &metav1.Duration{Duration: 720 * time.Hour},
	}
	return c
}

// TestCertManagerNotInstalledIsAFault: reports CertManagerNotInstalled, touching nothing, when the Certificate CRD was missing at setup.
func TestCertManagerNotInstalledIsAFault(t *testing.T) {
	g := NewWithT(t)
	mapper := meta.NewDefaultRESTMapper(nil)
	installed, err := certManagerInstalled(mapper)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(installed).To(BeFalse())

	// No client: any API call would panic.
	r := &Reconciler{certManagerInstalled: installed}
	m, problem, err := r.reconcileCertManagerTLS(context.Background(), issuerCluster(), nil, nil)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(m).To(BeNil())
	g.Expect(problem).NotTo(BeNil())
	g.Expect(problem.Reason).To(Equal("CertManagerNotInstalled"))
	g.Expect(problem.Message).To(ContainSubstring("certificates.cert-manager.io"))
	g.Expect(waiting(problem)).To(BeFalse())

	t.Log("reporting it as a fault, unlike a wait for the issuer")
	c := issuerCluster()
	computeStatus(c, observedWorkloads{TLSProblem: problem})
	g.Expect(meta.FindStatusCondition(c.Status.Conditions, implyv1alpha1.ConditionCertificatesReady).Reason).To(Equal("CertManagerNotInstalled"))
	g.Expect(meta.IsStatusConditionTrue(c.Status.Conditions, implyv1alpha1.ConditionDegraded)).To(BeTrue())
	g.Expect(meta.IsStatusConditionFalse(c.Status.Conditions, implyv1alpha1.ConditionProgressing)).To(BeTrue())
	c = issuerCluster()
	computeStatus(c, observedWorkloads{TLSProblem: &apply.Problem{Reason: "WaitingForIssuer", Message: "waiting"}})
	g.Expect(meta.IsStatusConditionFalse(c.Status.Conditions, implyv1alpha1.ConditionDegraded)).To(BeTrue())
	g.Expect(meta.IsStatusConditionTrue(c.Status.Conditions, implyv1alpha1.ConditionProgressing)).To(BeTrue())
	g.Expect(meta.IsStatusConditionFalse(c.Status.Conditions, implyv1alpha1.ConditionReady)).To(BeTrue())

	t.Log("finding the CRD once the mapper knows cert-manager.io/v1 Certificate")
	mapper.Add(schema.GroupVersionKind{Group: "cert-manager.io", Version: "v1", Kind: "Certificate"}, meta.RESTScopeNamespace)
	g.Expect(certManagerInstalled(mapper)).To(BeTrue())
	g.Expect(certManagerProblem(true)).To(BeNil())
}

// TestCertificateKeyAlgorithmAndIssuerKind: maps the key algorithm and the issuer kind onto the Certificate.
func TestCertificateKeyAlgorithmAndIssuerKind(t *testing.T) {
	g := NewWithT(t)
	c := issuerCluster()
	c.Spec.Security.TLS.Certificate.KeyAlgorithm = implyv1alpha1.KeyAlgorithmRSA3072
	crt := specs.BuildCertificate(c, specs.LeafTargets(c)[0])
	g.Expect(crt.Spec.PrivateKey.Algorithm).To(Equal(cmv1.RSAKeyAlgorithm))
	g.Expect(crt.Spec.PrivateKey.Size).To(Equal(3072))
	g.Expect(crt.Spec.IssuerRef).To(Equal(cmmeta.IssuerReference{Name: "corp-issuer", Kind: "ClusterIssuer", Group: "cert-manager.io"}))
}

// TestCertificateIssuedOnlyWhenReadyWithEveryKey: counts a Certificate issued only when Ready for its generation with its certificate and key in its Secret.
func TestCertificateIssuedOnlyWhenReadyWithEveryKey(t *testing.T) {
	g := NewWithT(t)
	ready := func(status cmmeta.ConditionStatus, observed int64) *cmv1.Certificate {
		return &cmv1.Certificate{
			ObjectMeta: metav1.ObjectMeta{Name: "c-data-tls", Generation: 2},
			Spec:       cmv1.CertificateSpec{SecretName: "c-data-tls-issued"},
			Status: cmv1.CertificateStatus{Conditions: []cmv1.CertificateCondition{
				{Type: cmv1.CertificateConditionReady, Status: status, Reason: "DoesNotExist", Message: "Issuing certificate as Secret does not exist", ObservedGeneration: observed},
			}},
		}
	}
	full := map[string][]byte{}
	for _, k := range []string{"tls.crt", "tls.key", "ca.crt"} {
		full[k] = []byte("x")
	}
	g.Expect(notIssued(ready(cmmeta.ConditionTrue, 2), full)).To(BeEmpty())
	g.Expect(notIssued(&cmv1.Certificate{}, full)).To(Equal("not Ready yet"))
	g.Expect(notIssued(ready(cmmeta.ConditionFalse, 2), full)).To(ContainSubstring("DoesNotExist"))
	g.Expect(notIssued(ready(cmmeta.ConditionTrue, 1), full)).To(ContainSubstring("not observed its latest spec"))
	delete(full, "tls.key")
	g.Expect(notIssued(ready(cmmeta.ConditionTrue, 2), full)).To(Equal("Secret c-data-tls-issued has no tls.key"))
}

// staleSecrets reads Secrets from a copy the test holds (a cache behind the apiserver) and
// everything else, and every write, through the apiserver.
type staleSecrets struct {
	client.Client
	held map[client.ObjectKey]*corev1.Secret
}

func (s staleSecrets) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if secret, ok := obj.(*corev1.Secret); ok {
		if held, ok := s.held[key]; ok {
			held.DeepCopyInto(secret)
			return nil
		}
	}
	return s.Client.Get(ctx, key, obj, opts...)
}

// TestTakenOverLeafSecretIsTheOperatorsBeforeTheCacheSeesIt: after the operator took a leaf
// Secret over from its Certificate, a reconcile whose cache still holds the Certificate-controlled
// copy reads the apiserver's, which is the cluster's: no conflict (a NameConflict warning).
func TestTakenOverLeafSecretIsTheOperatorsBeforeTheCacheSeesIt(t *testing.T) {
	g := NewWithT(t)
	scheme := runtime.NewScheme()
	g.Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	g.Expect(implyv1alpha1.AddToScheme(scheme)).To(Succeed())
	g.Expect(cmv1.AddToScheme(scheme)).To(Succeed())
	c := issuerCluster()
	c.UID = "c-uid"
	target := specs.LeafTargets(c)[0]
	leaf := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
		Name: target.SecretName, Namespace: c.Namespace, Labels: map[string]string{specs.LabelManagedBy: specs.ManagedBy, specs.LabelCluster: c.Name},
	}, Data: map[string][]byte{"tls.crt": []byte("leaf")}}
	taken := leaf.DeepCopy()
	g.Expect(controllerutil.SetControllerReference(c, taken, scheme)).To(Succeed())
	stale := leaf.DeepCopy()
	stale.OwnerReferences = []metav1.OwnerReference{
		{APIVersion: "cert-manager.io/v1", Kind: "Certificate", Name: target.SecretName, UID: "crt-uid", Controller: ptr.To(true)},
		{APIVersion: "imply.operator.dev/v1alpha1", Kind: "ImplyCluster", Name: c.Name, UID: c.UID},
	}
	apiserver := fake.NewClientBuilder().WithScheme(scheme).WithObjects(taken).Build()
	r := &Reconciler{
		Client:    staleSecrets{Client: apiserver, held: map[client.ObjectKey]*corev1.Secret{client.ObjectKeyFromObject(leaf): stale}},
		APIReader: apiserver, Scheme: scheme,
	}
	live, err := r.liveServedSecret(context.Background(), c, target)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(metav1.IsControlledBy(live, c)).To(BeTrue())
	g.Expect(live.Data["tls.crt"]).To(Equal([]byte("leaf")))
}
