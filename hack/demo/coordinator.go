package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/druid/fakecoordinator"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// demoCoordinatorHost is the name the fake coordinator's certificate is issued for; it resolves
// to the loopback address the server listens on.
const demoCoordinatorHost = "localhost"

// startCoordinator stands in for the coordinator of ImplyCluster name, which the simulated
// cluster cannot run: the in-repo fake coordinator (pkg/druid/fakecoordinator, an in-memory
// model of Druid's basic-security API held to Apache Druid by its conformance suite), serving
// https with a certificate the cluster's own CA signs, and knowing the admin and internal-client
// passwords the operator generated. It then points spec.druid.apiURL at it, so AuthTokens and
// DruidRoles of the cluster converge on it.
func startCoordinator(ctx context.Context, c client.Client, name string, out io.Writer, timeout time.Duration) (*fakecoordinator.Server, error) {
	var ic implyv1alpha1.ImplyCluster
	if err := c.Get(ctx, types.NamespacedName{Namespace: Namespace, Name: name}, &ic); err != nil {
		return nil, fmt.Errorf("reading ImplyCluster %s: %w", name, err)
	}
	ca, err := waitForSecret(ctx, c, specs.CASecretName(name), timeout, "ca.crt", "ca.key")
	if err != nil {
		return nil, err
	}
	creds, err := waitForSecret(ctx, c, specs.DruidCredentialsName(name), timeout,
		specs.DruidAdminPasswordKey, specs.DruidInternalClientPasswordKey)
	if err != nil {
		return nil, err
	}
	signer, err := pki.ParseKeyPair(ca.Data["ca.crt"], ca.Data["ca.key"])
	if err != nil {
		return nil, fmt.Errorf("reading the cluster's CA: %w", err)
	}
	leaf, err := signer.SignLeaf(clock.RealClock{}, pki.LeafRequest{CommonName: demoCoordinatorHost,
		DNSNames: []string{demoCoordinatorHost}, Validity: 24 * time.Hour})
	if err != nil {
		return nil, fmt.Errorf("issuing the coordinator's certificate: %w", err)
	}
	cert, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
	if err != nil {
		return nil, err
	}
	fake := fakecoordinator.New(fakecoordinator.Options{
		Authenticators:         []string{specs.DruidAuthenticatorName(&ic)},
		Authorizers:            []string{specs.DruidAuthorizerName(&ic)},
		AdminPassword:          string(creds.Data[specs.DruidAdminPasswordKey]),
		InternalClientPassword: string(creds.Data[specs.DruidInternalClientPasswordKey]),
		CredentialIterations:   int(specs.DruidCredentialIterations(&ic)),
		TLS:                    true,
		Certificate:            &cert,
	})
	u, err := url.Parse(fake.URL)
	if err != nil {
		fake.Close()
		return nil, err
	}
	apiURL := "https://" + demoCoordinatorHost + ":" + u.Port()
	patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"druid": map[string]any{"apiURL": apiURL}}})
	if err := c.Patch(ctx, &ic, client.RawPatch(types.MergePatchType, patch)); err != nil {
		fake.Close()
		return nil, fmt.Errorf("setting spec.druid.apiURL of ImplyCluster %s: %w", name, err)
	}
	fmt.Fprintf(out, "  fake coordinator (pkg/druid/fakecoordinator, NOT Apache Druid) on %s, certificate from %s, spec.druid.apiURL set to it\n",
		apiURL, specs.CASecretName(name))
	return fake, nil
}

// waitForSecret polls until Secret name exists in the demo namespace with every key.
func waitForSecret(ctx context.Context, c client.Client, name string, timeout time.Duration, keys ...string) (*corev1.Secret, error) {
	deadline := time.Now().Add(timeout)
	for {
		var s corev1.Secret
		err := c.Get(ctx, types.NamespacedName{Namespace: Namespace, Name: name}, &s)
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("reading Secret %s: %w", name, err)
		}
		missing := err != nil
		for _, k := range keys {
			missing = missing || len(s.Data[k]) == 0
		}
		if !missing {
			return &s, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the Secret %s with keys %v did not appear within %s", name, keys, timeout)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
