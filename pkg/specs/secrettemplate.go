package specs

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// clusterSecretTemplate is the cluster's spec.security.secretTemplate, nil when unset.
func clusterSecretTemplate(c *implyv1alpha1.ImplyCluster) *implyv1alpha1.SecretTemplate {
	if c.Spec.Security == nil {
		return nil
	}
	return c.Spec.Security.SecretTemplate
}

// withTemplateLabels returns own plus the template's labels; own's keys win, so a template never
// changes a label the operator selects or caches by.
func withTemplateLabels(own map[string]string, t *implyv1alpha1.SecretTemplate) map[string]string {
	if t == nil {
		return own
	}
	return mergeKeepingOwn(own, t.Labels)
}

// applySecretTemplate adds the template's labels and annotations to meta, keeping the operator's own.
func applySecretTemplate(meta *metav1.ObjectMeta, t *implyv1alpha1.SecretTemplate) {
	if t == nil {
		return
	}
	meta.Labels = mergeKeepingOwn(meta.Labels, t.Labels)
	meta.Annotations = mergeKeepingOwn(meta.Annotations, t.Annotations)
}

// mergeKeepingOwn is own with the keys of extra it does not have; nil when both are empty.
func mergeKeepingOwn(own, extra map[string]string) map[string]string {
	if len(extra) == 0 {
		return own
	}
	out := make(map[string]string, len(own)+len(extra))
	for k, v := range extra {
		out[k] = v
	}
	for k, v := range own {
		out[k] = v
	}
	return out
}

// AddAnnotations sets the operator's own annotations on meta, beside those already there (a
// secretTemplate's); the operator's win.
func AddAnnotations(meta *metav1.ObjectMeta, own map[string]string) {
	if len(own) == 0 {
		return
	}
	if meta.Annotations == nil {
		meta.Annotations = make(map[string]string, len(own))
	}
	for k, v := range own {
		meta.Annotations[k] = v
	}
}
