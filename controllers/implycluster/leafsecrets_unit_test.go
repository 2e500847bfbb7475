package implycluster

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"software.sslmate.com/src/go-pkcs12"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
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

// TestALeafThatLostAStoreGetsItBackWithTheSameCertificate: a served leaf Secret whose PKCS#12
// files were removed gets them back, packed from the certificate and key it keeps, with its
// password; one that lost its password gets a new one and both files encrypted with it. No new
// certificate is issued (a pod mounting the Secret needs no new trust), and one event says what
// was repaired.
func TestALeafThatLostAStoreGetsItBackWithTheSameCertificate(t *testing.T) {
	r, _, c := requestReconciler(t)
	ctx := quietCtx()
	withGeneratedTLS(c)
	if err := r.Update(ctx, c); err != nil {
		t.Fatal(err)
	}
	req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(c)}
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	lost := map[string][]string{
		specs.GroupTLSSecretName(c.Name, "data"):  {specs.KeystoreKey, specs.TruststoreKey},
		specs.GroupTLSSecretName(c.Name, "query"): {specs.KeystorePasswordKey},
	}
	before := map[string]map[string][]byte{}
	for name, keys := range lost {
		var s corev1.Secret
		if err := r.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: name}, &s); err != nil {
			t.Fatal(err)
		}
		before[name] = maps.Clone(s.Data)
		for _, k := range keys {
			delete(s.Data, k)
		}
		if err := r.Update(ctx, &s); err != nil {
			t.Fatal(err)
		}
	}
	recorder := events.NewFakeRecorder(20)
	r.Recorder = recorder
	if _, err := r.Reconcile(ctx, req); err != nil {
		t.Fatal(err)
	}
	close(recorder.Events)
	var repacked []string
	for e := range recorder.Events {
		if strings.Contains(e, implyv1alpha1.EventKeystoresRepacked) {
			repacked = append(repacked, e)
		}
	}
	want := "Normal KeystoresRepacked Packed the keystores again around the certificate served, in Secrets " +
		"c-data-tls (keystore.p12 was missing), c-query-tls (keystore-password was missing)"
	if len(repacked) != 1 || !strings.HasPrefix(repacked[0], want) {
		t.Errorf("want one event %q, got %q", want, repacked)
	}
	var ca corev1.Secret
	if err := r.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: specs.CASecretName(c.Name)}, &ca); err != nil {
		t.Fatal(err)
	}
	cas, err := pki.ParseBundle(ca.Data[specs.CACertKey])
	if err != nil || len(cas) != 1 {
		t.Fatalf("the CA Secret holds %d certificates (%v)", len(cas), err)
	}
	caCert := cas[0]
	for name := range lost {
		var s corev1.Secret
		if err := r.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: name}, &s); err != nil {
			t.Fatal(err)
		}
		if string(s.Data[specs.TLSCertKey]) != string(before[name][specs.TLSCertKey]) {
			t.Errorf("%s: a new certificate was issued", name)
		}
		pw := string(s.Data[specs.KeystorePasswordKey])
		if keptPassword := before[name][specs.KeystorePasswordKey]; slices.Contains(lost[name], specs.KeystorePasswordKey) == (pw == string(keptPassword)) || len(pw) < keystorePasswordLength {
			t.Errorf("%s: keystore password %d characters long, kept %v; want it kept unless it was lost", name, len(pw), pw == string(keptPassword))
		}
		_, cert, chain, err := pkcs12.DecodeChain(s.Data[specs.KeystoreKey], pw)
		if err != nil {
			t.Fatalf("%s: the keystore does not open with the password: %v", name, err)
		}
		served, err := pki.ParseBundle(s.Data[specs.TLSCertKey])
		if err != nil || len(served) == 0 || !cert.Equal(served[0]) || len(chain) != 1 || !chain[0].Equal(caCert) {
			t.Errorf("%s: the keystore does not hold the served certificate with the CA as its chain", name)
		}
		trusted, err := pkcs12.DecodeTrustStore(s.Data[specs.TruststoreKey], pw)
		if err != nil || len(trusted) != 1 || !trusted[0].Equal(caCert) {
			t.Errorf("%s: the truststore does not hold the CA (%v)", name, err)
		}
	}
}
