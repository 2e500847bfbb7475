package rollout

import "github.com/imply-operator/imply-operator/pkg/specs"

// TriggerOf says why a step's wanted pod template differs from its live one, from their
// annotations: a new value of the restart annotation is Restart; a changed config-revision is
// SpecChange, and so is a changed secrets-revision (the user edited a Secret the pods read, as
// they would the spec); a changed tls-revision or auth-revision is Security. otherChange says whether the
// templates also differ elsewhere (images, resources, mounts, a hand edit), which is SpecChange.
// A restart annotation that was removed restarts nothing.
func TriggerOf(wanted, live map[string]string, otherChange bool) Trigger {
	var t Trigger
	if r := wanted[specs.AnnotationRestart]; r != "" && r != live[specs.AnnotationRestart] {
		t |= Restart
	}
	if wanted[specs.AnnotationConfigRevision] != live[specs.AnnotationConfigRevision] ||
		wanted[specs.AnnotationSecretsRevision] != live[specs.AnnotationSecretsRevision] || otherChange {
		t |= SpecChange
	}
	for _, k := range []string{specs.AnnotationTLSRevision, specs.AnnotationAuthRevision, specs.AnnotationMetadataTLSRevision} {
		if wanted[k] != live[k] {
			t |= Security
		}
	}
	return t
}

// TriggerAnnotations are the pod-template annotations TriggerOf reads; callers compare templates
// without them to find otherChange.
var TriggerAnnotations = []string{
	specs.AnnotationRestart, specs.AnnotationConfigRevision, specs.AnnotationTLSRevision, specs.AnnotationAuthRevision,
	specs.AnnotationMetadataTLSRevision, specs.AnnotationSecretsRevision,
}
