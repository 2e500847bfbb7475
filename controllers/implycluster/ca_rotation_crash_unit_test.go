package implycluster

import (
	"context"
	"crypto/x509"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/apply"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// crashWorld is the apiserver a CA rotation writes to, with the cluster's workloads rolled out by
// hand: each reconcile's writes (reconcileTLS's objects, in order) can be cut short by a crash.
type crashWorld struct {
	t       *testing.T
	c       *implyv1alpha1.ImplyCluster
	store   client.Client
	r       *Reconciler
	trusted []*x509.Certificate // the bundle the running pods mount (the last rolled-out one)
}

func newCrashWorld(t *testing.T) *crashWorld {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, implyv1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	store := fake.NewClientBuilder().WithScheme(scheme).Build()
	c := testobj.ImplyCluster("c", "ns")
	c.UID = types.UID("c-uid")
	day := func(n int) *metav1.Duration { return &metav1.Duration{Duration: time.Duration(n) * 24 * time.Hour} }
	c.Spec.Security = &implyv1alpha1.SecuritySpec{TLS: &implyv1alpha1.TLSSpec{Enabled: true,
		CA:          &implyv1alpha1.CASpec{Generate: &implyv1alpha1.GeneratedCASpec{Validity: day(3650)}},
		Certificate: implyv1alpha1.CertificateSpec{Validity: day(90), RenewBefore: day(30)},
	}}
	r := &Reconciler{Client: store, APIReader: store, Scheme: scheme, Recorder: noEvents{},
		Clock: clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	return &crashWorld{t: t, c: c, store: store, r: r}
}

// reconcile runs one TLS reconcile and writes the first `writes` of its objects (all when
// negative); it returns the material and whether every write landed.
func (w *crashWorld) reconcile(writes int) (*tlsMaterial, bool) {
	w.t.Helper()
	ctx := context.Background()
	m, problem, err := w.r.reconcileTLS(ctx, w.c, []byte("revision-key-of-at-least-32-bytes"))
	if err != nil || problem != nil {
		w.t.Fatalf("reconcile: %v %v", err, problem)
	}
	if m.Signer != nil && len(m.Issued) > 0 && len(w.trusted) > 0 && !containsCert(w.trusted, m.Signer.Certificate) {
		w.t.Fatalf("leaves %v issued by a CA (serial %s) the running pods do not trust", m.Issued, m.Signer.Certificate.SerialNumber)
	}
	for i, obj := range m.Objects {
		if writes >= 0 && i >= writes {
			return m, false
		}
		if _, err := apply.Apply(context.Background(), w.store, w.store, w.r.Scheme, w.c, obj.DeepCopyObject().(client.Object)); err != nil {
			w.t.Fatalf("writing %s: %v", obj.GetName(), err)
		}
	}
	return m, true
}

// write stores a workload as the apiserver would after a rollout.
func (w *crashWorld) write(obj client.Object) {
	w.t.Helper()
	ctx := context.Background()
	live := obj.DeepCopyObject().(client.Object)
	err := w.store.Get(ctx, client.ObjectKeyFromObject(obj), live)
	switch {
	case apierrors.IsNotFound(err):
		err = w.store.Create(ctx, obj)
	case err == nil:
		obj.SetResourceVersion(live.GetResourceVersion())
		err = w.store.Update(ctx, obj)
	}
	if err != nil {
		w.t.Fatalf("writing %s: %v", obj.GetName(), err)
	}
}

// rollOut makes every workload run the revisions of m, ready, and its pods mount m's bundle.
func (w *crashWorld) rollOut(m *tlsMaterial) {
	w.t.Helper()
	for _, g := range w.c.Spec.NodeGroups {
		n := ptr.Deref(g.Replicas, 1)
		sts := &appsv1.StatefulSet{}
		sts.Namespace, sts.Name = w.c.Namespace, specs.GroupName(w.c.Name, g.Name)
		sts.Spec.Template.Annotations = map[string]string{specs.AnnotationTLSRevision: m.Revisions[g.Name]}
		sts.Status = appsv1.StatefulSetStatus{Replicas: n, ReadyReplicas: n, UpdatedReplicas: n}
		w.write(sts)
	}
	n := ptr.Deref(w.c.Spec.Manager.Replicas, 1)
	d := &appsv1.Deployment{}
	d.Namespace, d.Name = w.c.Namespace, specs.ManagerName(w.c.Name)
	d.Spec.Template.Annotations = map[string]string{specs.AnnotationTLSRevision: m.Revisions[specs.ComponentManager]}
	d.Status = appsv1.DeploymentStatus{Replicas: n, UpdatedReplicas: n, AvailableReplicas: n}
	w.write(d)
	var err error
	if w.trusted, err = pki.ParseBundle(m.BundlePEM); err != nil {
		w.t.Fatal(err)
	}
}

func (w *crashWorld) signingCA() (*pki.KeyPair, string) {
	w.t.Helper()
	var s corev1.Secret
	if err := w.store.Get(context.Background(), client.ObjectKey{Namespace: w.c.Namespace, Name: specs.CASecretName(w.c.Name)}, &s); err != nil {
		w.t.Fatal(err)
	}
	kp, err := pki.ParseKeyPair(s.Data[specs.CACertKey], s.Data[specs.CAPrivateKeyKey])
	if err != nil {
		w.t.Fatal(err)
	}
	var cm corev1.ConfigMap
	if err := w.store.Get(context.Background(), client.ObjectKey{Namespace: w.c.Namespace, Name: specs.CABundleName(w.c.Name)}, &cm); err != nil {
		w.t.Fatal(err)
	}
	return kp, cm.Annotations[implyv1alpha1.AnnotationCARotationPhase]
}

// TestCARotationSurvivesACrashAfterEveryWrite (issue 19 point 5): an operator killed after any
// write of any reconcile of a rotate-ca rotation, and started again on what those writes left,
// carries on with the same rotation (the same new CA, no second one), never signs a leaf with a
// CA the running pods do not trust, and ends signing with the new CA alone with the old key
// gone. Each reconcile is first cut short after `crashAfter` writes, then run again in full.
func TestCARotationSurvivesACrashAfterEveryWrite(t *testing.T) {
	for crashAfter := 0; crashAfter <= 3; crashAfter++ {
		w := newCrashWorld(t)
		m, _ := w.reconcile(-1)
		w.rollOut(m)
		oldCA, _ := w.signingCA()

		w.c.Annotations = map[string]string{implyv1alpha1.AnnotationRotateCA: "v1"}
		var newCA *pki.KeyPair
		for step := 0; step < 12; step++ {
			w.reconcile(crashAfter) // killed after crashAfter writes
			m, _ := w.reconcile(-1) // the restarted operator's reconcile
			ca, phase := w.signingCA()
			if !ca.Certificate.Equal(oldCA.Certificate) {
				if newCA == nil {
					newCA = ca
				} else if !ca.Certificate.Equal(newCA.Certificate) {
					t.Fatalf("crash after %d writes, step %d: a second new CA was generated", crashAfter, step)
				}
			}
			w.rollOut(m)
			if newCA != nil && phase == "" && len(w.trusted) == 1 && w.trusted[0].Equal(newCA.Certificate) {
				break
			}
		}
		if newCA == nil {
			t.Fatalf("crash after %d writes: rotate-ca never replaced the CA", crashAfter)
		}
		m, _ = w.reconcile(-1)
		ca, phase := w.signingCA()
		if phase != "" || !ca.Certificate.Equal(newCA.Certificate) || len(w.trusted) != 1 || !w.trusted[0].Equal(newCA.Certificate) {
			t.Fatalf("crash after %d writes: the rotation ended in phase %q signing with serial %s trusting %d CAs, want the new CA alone",
				crashAfter, phase, ca.Certificate.SerialNumber, len(w.trusted))
		}
		if !m.Signer.Certificate.Equal(newCA.Certificate) {
			t.Fatalf("crash after %d writes: the cluster still signs with serial %s", crashAfter, m.Signer.Certificate.SerialNumber)
		}
		var s corev1.Secret
		_ = w.store.Get(context.Background(), client.ObjectKey{Namespace: w.c.Namespace, Name: specs.CASecretName(w.c.Name)}, &s)
		if _, kept := s.Data[keyPreviousCACert]; kept {
			t.Fatalf("crash after %d writes: the old CA is still kept after the rotation", crashAfter)
		}
	}
}
