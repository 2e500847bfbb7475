package specs

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// Retention: what an ImplyCluster (spec.security.retainOnDelete) or an AuthToken (deletionPolicy
// Retain) keeps after it is deleted carries no owner reference, only the annotation
// imply.operator.dev/retained-for naming it, so the garbage collector leaves it and an owner of
// the same kind, namespace and name created again adopts it.

// RetainedFor is the value of the retained-for annotation that names an owner:
// "<Kind>/<namespace>/<name>".
func RetainedFor(kind, namespace, name string) string { return kind + "/" + namespace + "/" + name }

// RetainOnDelete reports whether c keeps its CA, client CA and Druid credentials when it is
// deleted: spec.security.retainOnDelete, true unless set to false.
func RetainOnDelete(c *implyv1alpha1.ImplyCluster) bool {
	return c.Spec.Security == nil || c.Spec.Security.RetainOnDelete == nil || *c.Spec.Security.RetainOnDelete
}

// RetainedSecretNames are the Secrets of a cluster that retainOnDelete keeps: the generated CA,
// the client CA and the Druid credentials, all of which outlive pods (Druid's metadata store keeps
// the users; clients may trust the CA). The revision key is not among them: it only names pod
// revisions, and a re-created cluster's pods are new anyway.
func RetainedSecretNames(cluster string) []string {
	return []string{CASecretName(cluster), ClientCASecretName(cluster), DruidCredentialsName(cluster)}
}

// MarkRetained annotates a Secret of c as retained for c when c keeps it after deletion (its
// name is in RetainedSecretNames and retainOnDelete holds), and says whether it did.
func MarkRetained(c *implyv1alpha1.ImplyCluster, secret metav1.Object) bool {
	if !RetainOnDelete(c) {
		return false
	}
	for _, n := range RetainedSecretNames(c.Name) {
		if secret.GetName() == n {
			SetRetainedFor(secret, RetainedFor("ImplyCluster", c.Namespace, c.Name))
			return true
		}
	}
	return false
}

// SetRetainedFor sets the retained-for annotation of obj to owner (a RetainedFor value).
func SetRetainedFor(obj metav1.Object, owner string) {
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[implyv1alpha1.AnnotationRetainedFor] = owner
	obj.SetAnnotations(a)
}
