package implycluster

import (
	"context"
	"maps"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// catchingUpCache is the operator's cache at the moment it catches up with one Secret: its first
// read of that Secret answers the older version it held, every later one the apiserver's
// current version. Both without the PKCS#12 bytes, as the Secret cache holds them.
type catchingUpCache struct {
	client.Client
	key   client.ObjectKey
	older *corev1.Secret
}

func (c *catchingUpCache) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if s, ok := obj.(*corev1.Secret); ok && key == c.key && c.older != nil {
		c.older.DeepCopyInto(s)
		c.older = nil
	} else if err := c.Client.Get(ctx, key, obj, opts...); err != nil {
		return err
	}
	if s, ok := obj.(*corev1.Secret); ok {
		for _, k := range []string{specs.KeystoreKey, specs.TruststoreKey, specs.ClientKeystoreKey, specs.ClientTruststoreKey} {
			if _, present := s.Data[k]; present {
				s.Data[k] = nil
			}
		}
	}
	return nil
}

// withGeneratedTLS gives c the TLS settings the API defaults: a generated CA and its leaves.
func withGeneratedTLS(c *implyv1alpha1.ImplyCluster) {
	c.Spec.Security = &implyv1alpha1.SecuritySpec{TLS: &implyv1alpha1.TLSSpec{
		Enabled: true, MinVersion: "1.2", ClusterDomain: "cluster.local",
		CA: &implyv1alpha1.CASpec{Generate: &implyv1alpha1.GeneratedCASpec{
			Validity: &metav1.Duration{Duration: 26280 * time.Hour}, KeyAlgorithm: implyv1alpha1.KeyAlgorithmECDSAP256,
		}},
		Certificate: implyv1alpha1.CertificateSpec{
			Validity: &metav1.Duration{Duration: 2160 * time.Hour}, RenewBefore: &metav1.Duration{Duration: 720 * time.Hour},
			KeyAlgorithm: implyv1alpha1.KeyAlgorithmECDSAP256,
		},
	}}
}

// TestALeafIsNotWrittenOverAVersionItWasNotDerivedFrom: a reconcile reads a leaf Secret from a
// cache that has not seen its newest version (another certificate), and the cache catches up
// before the apply. The leaf derived from the older version must not be written over the newer
// one: neither its certificate reverted nor its keystores, which the cache does not hold, erased.
// The reconcile starts over without reporting a failure in the status.
func TestALeafIsNotWrittenOverAVersionItWasNotDerivedFrom(t *testing.T) {
	r, _, c := requestReconciler(t)
	ctx := quietCtx()
	store := r.Client
	withGeneratedTLS(c) // as the API defaults it; the fake apiserver does not
	if err := store.Update(ctx, c); err != nil {
		t.Fatal(err)
	}
	req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(c)}
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	key := client.ObjectKey{Namespace: c.Namespace, Name: specs.GroupTLSSecretName(c.Name, "data")}
	var older, other corev1.Secret
	if err := r.APIReader.Get(ctx, key, &older); err != nil {
		t.Fatal(err)
	}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: specs.GroupTLSSecretName(c.Name, "query")}, &other); err != nil {
		t.Fatal(err)
	}
	newer := older.DeepCopy()
	newer.Data = maps.Clone(newer.Data)
	newer.Data[specs.TLSCertKey], newer.Data[specs.TLSPrivateKeyKey] = other.Data[specs.TLSCertKey], other.Data[specs.TLSPrivateKeyKey]
	newer.Data[specs.KeystoreKey] = other.Data[specs.KeystoreKey]
	if err := store.Update(ctx, newer); err != nil {
		t.Fatal(err)
	}

	var before implyv1alpha1.ImplyCluster
	if err := store.Get(ctx, req.NamespacedName, &before); err != nil {
		t.Fatal(err)
	}
	r.Client = &catchingUpCache{Client: store, key: key, older: &older}
	_, err := r.Reconcile(ctx, req)
	if !apierrors.IsConflict(err) {
		t.Errorf("want a Conflict that starts the reconcile over, got %v", err)
	}
	var after implyv1alpha1.ImplyCluster
	if err := store.Get(ctx, req.NamespacedName, &after); err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion != before.ResourceVersion {
		t.Errorf("the retried reconcile wrote the status: Ready %+v", apimeta.FindStatusCondition(after.Status.Conditions, implyv1alpha1.ConditionReady))
	}
	var now corev1.Secret
	if err := r.APIReader.Get(ctx, key, &now); err != nil {
		t.Fatal(err)
	}
	if now.ResourceVersion != newer.ResourceVersion {
		t.Errorf("the leaf was written over the version it was not derived from (resourceVersion %s, then %s)", newer.ResourceVersion, now.ResourceVersion)
	}
	for _, k := range []string{specs.TLSCertKey, specs.KeystoreKey, specs.TruststoreKey} {
		if string(now.Data[k]) != string(newer.Data[k]) {
			t.Errorf("%s of the newer version changed (%d bytes, now %d)", k, len(newer.Data[k]), len(now.Data[k]))
		}
	}
}
