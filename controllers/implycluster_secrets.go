package controllers

import (
	"context"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// Default Secret keys of the references that have one.
const (
	defaultLicenseKey = "IMPLY_MANAGER_LICENSE_KEY"
)

// secretIndexField indexes ImplyClusters by the names of the Secrets their spec references.
const secretIndexField = "spec.referencedSecrets"

// secretReference is a Secret an ImplyCluster's spec needs, the keys it must hold, and the spec
// field that names it (for conditions and events).
type secretReference struct {
	Field string
	Name  string
	Keys  []string
	// watchOnly references are watched but checked elsewhere.
	watchOnly bool
}

// referencedSecrets lists the Secrets c's spec references, in a stable order.
func referencedSecrets(c *implyv1alpha1.ImplyCluster) []secretReference {
	var refs []secretReference
	if l := c.Spec.License; l != nil {
		refs = append(refs, secretReference{Field: "spec.license.secretRef", Name: l.SecretRef.Name, Keys: []string{l.SecretRef.KeyOrDefault(defaultLicenseKey)}})
	}
	credentials := func(field string, ref implyv1alpha1.CredentialsSecretReference) secretReference {
		return secretReference{Field: field, Name: ref.Name, Keys: []string{orDefault(ref.UsernameKey, "username"), orDefault(ref.PasswordKey, "password")}}
	}
	if m := c.Spec.Manager.MetadataStore; m != nil {
		refs = append(refs, credentials("spec.manager.metadataStore.credentialsSecretRef", m.CredentialsSecretRef))
	}
	refs = append(refs, credentials("spec.druid.metadataStore.credentialsSecretRef", c.Spec.Druid.MetadataStore.CredentialsSecretRef))
	if ds := c.Spec.Druid.DeepStorage.CredentialsSecretRef; ds != nil {
		refs = append(refs, secretReference{Field: "spec.druid.deepStorage.credentialsSecretRef", Name: ds.Name})
	}
	if specs.AuthEnabled(c) {
		// Read and checked against the policy by reconcileAuth; listed here to be watched.
		for _, ref := range []struct {
			field string
			sel   implyv1alpha1.SecretKeySelector
		}{
			{"spec.security.auth.druid.adminPasswordSecretRef", specs.DruidAdminPasswordRef(c)},
			{"spec.security.auth.druid.internalClientPasswordSecretRef", specs.DruidInternalClientPasswordRef(c)},
		} {
			if ref.sel.Name != specs.DruidCredentialsName(c.Name) {
				refs = append(refs, secretReference{Field: ref.field, Name: ref.sel.Name, watchOnly: true})
			}
		}
		if bind, ok := specs.LDAPBindPasswordRef(c); ok {
			refs = append(refs, secretReference{Field: "spec.security.auth.druid.ldap.bindPasswordSecretRef", Name: bind.Name, watchOnly: true})
		}
	}
	if s := c.Spec.Security; s != nil && s.TLS != nil && s.TLS.Enabled && s.TLS.CA != nil && s.TLS.CA.SecretRef != nil {
		// Checked by the CA parser, which names what is wrong with it; listed here to be watched.
		refs = append(refs, secretReference{Field: "spec.security.tls.ca.secretRef", Name: s.TLS.CA.SecretRef.Name, watchOnly: true})
	}
	return refs
}

// referencedSecretNames is the index function of secretIndexField.
func referencedSecretNames(obj client.Object) []string {
	c, ok := obj.(*implyv1alpha1.ImplyCluster)
	if !ok {
		return nil
	}
	seen := map[string]bool{}
	var names []string
	for _, ref := range referencedSecrets(c) {
		if !seen[ref.Name] {
			seen[ref.Name] = true
			names = append(names, ref.Name)
		}
	}
	sort.Strings(names)
	return names
}

// secretProblem is a referenced Secret that is missing or lacks a key.
type secretProblem struct {
	Reason  string
	Message string
}

// checkReferencedSecrets reads each referenced Secret (uncached: only the operator's own Secrets
// are cached) and returns the first one that is missing or lacks a key. It never returns values.
func checkReferencedSecrets(ctx context.Context, reader client.Reader, c *implyv1alpha1.ImplyCluster) (*secretProblem, error) {
	for _, ref := range referencedSecrets(c) {
		if ref.watchOnly {
			continue
		}
		var secret corev1.Secret
		err := reader.Get(ctx, types.NamespacedName{Namespace: c.Namespace, Name: ref.Name}, &secret)
		if apierrors.IsNotFound(err) {
			return &secretProblem{
				Reason:  implyv1alpha1.ReasonSecretNotFound,
				Message: fmt.Sprintf("Secret %q named by %s does not exist", ref.Name, ref.Field),
			}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("while reading Secret %s: %w", ref.Name, err)
		}
		for _, key := range ref.Keys {
			if _, ok := secret.Data[key]; !ok {
				return &secretProblem{
					Reason:  implyv1alpha1.ReasonSecretKeyNotFound,
					Message: fmt.Sprintf("Secret %q named by %s has no key %q", ref.Name, ref.Field, key),
				}, nil
			}
		}
	}
	return nil, nil
}

// clustersReferencingSecret maps a Secret event to the ImplyClusters that own it (as controller,
// or as a plain owner: the Secrets cert-manager writes) and those whose spec names it.
func clustersReferencingSecret(c client.Client) func(context.Context, client.Object) []reconcile.Request {
	return func(ctx context.Context, secret client.Object) []reconcile.Request {
		var requests []reconcile.Request
		for _, owner := range secret.GetOwnerReferences() {
			if owner.Kind == "ImplyCluster" && owner.APIVersion == implyv1alpha1.GroupVersion.String() {
				requests = append(requests, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: secret.GetNamespace(), Name: owner.Name}})
			}
		}
		var clusters implyv1alpha1.ImplyClusterList
		if err := c.List(ctx, &clusters, client.InNamespace(secret.GetNamespace()),
			client.MatchingFields{secretIndexField: secret.GetName()}); err != nil {
			return requests
		}
		for _, cl := range clusters.Items {
			requests = append(requests, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&cl)})
		}
		return append(requests, clustersUsingTokenSecret(ctx, c, secret)...)
	}
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// orDefault returns s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
