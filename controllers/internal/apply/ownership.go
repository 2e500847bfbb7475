package apply

import (
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// The operator writes only objects it controls. An object of a name it would write is its own
// when its controller reference is the owner's; or when it has no controller and either is
// marked retained for the owner (imply.operator.dev/retained-for, see specs.RetainedFor) or
// lists the owner as a plain owner (the Secrets cert-manager writes for a cluster). Any other
// object of that name (another controller's, or nobody's: created by hand, or orphaned by a
// `kubectl delete --cascade=orphan`) is never modified, adopted or deleted: Apply returns a
// ConflictError, which callers report as the NameConflict reason. Marking such an object
// retained for the owner hands it over deliberately.

// ConflictError says an object of a name the owner would write exists and is not the owner's:
// it was left as it is.
type ConflictError struct {
	// Kind and Name are the object's.
	Kind, Name string
	// Holder is who controls it ("ImplyCluster a-b"); empty when nobody does.
	Holder string
	// Owner is the owner that would have written it ("ImplyCluster a").
	Owner string
	// ReferencedBy is the spec field that names the object as the user's own (a Secret the
	// owner only reads); empty otherwise.
	ReferencedBy string
}

// Error names the object and who holds it, for conditions and events.
func (e *ConflictError) Error() string {
	if e.ReferencedBy != "" {
		return fmt.Sprintf("%s %q is named by %s, so it is only read, and the operator would also write a %s of that name for %s: "+
			"it leaves it untouched; give the Secret another name", e.Kind, e.Name, e.ReferencedBy, e.Kind, e.Owner)
	}
	holder := "it has no controller"
	if e.Holder != "" {
		holder = "it is controlled by " + e.Holder
	}
	return fmt.Sprintf("%s %q exists and is not %s's (%s): the operator leaves it untouched; delete or rename it",
		e.Kind, e.Name, e.Owner, holder)
}

// Problem is the NameConflict problem of e.
func (e *ConflictError) Problem() *Problem {
	return &Problem{Reason: implyv1alpha1.ReasonNameConflict, Message: e.Error()}
}

// AsConflict returns the ConflictError in err's chain, nil when there is none.
func AsConflict(err error) *ConflictError {
	var c *ConflictError
	if errors.As(err, &c) {
		return c
	}
	return nil
}

// kindOf is obj's kind, from the scheme.
func kindOf(scheme *runtime.Scheme, obj runtime.Object) string {
	gvk, err := apiutil.GVKForObject(obj, scheme)
	if err != nil {
		return fmt.Sprintf("%T", obj)
	}
	return gvk.Kind
}

// RetainedForOwner is the retained-for annotation value that names owner.
func RetainedForOwner(scheme *runtime.Scheme, owner client.Object) string {
	return specs.RetainedFor(kindOf(scheme, owner), owner.GetNamespace(), owner.GetName())
}

// CheckOwner returns nil when live is owner's to write (see above), else the ConflictError
// naming it.
func CheckOwner(scheme *runtime.Scheme, owner, live client.Object) error {
	if ctrl := metav1.GetControllerOf(live); ctrl != nil {
		if ctrl.UID == owner.GetUID() {
			return nil
		}
		return &ConflictError{Kind: kindOf(scheme, live), Name: live.GetName(), Holder: ctrl.Kind + " " + ctrl.Name,
			Owner: kindOf(scheme, owner) + " " + owner.GetName()}
	}
	if live.GetAnnotations()[implyv1alpha1.AnnotationRetainedFor] == RetainedForOwner(scheme, owner) {
		return nil
	}
	for _, ref := range live.GetOwnerReferences() {
		if ref.UID == owner.GetUID() {
			return nil
		}
	}
	return &ConflictError{Kind: kindOf(scheme, live), Name: live.GetName(), Owner: kindOf(scheme, owner) + " " + owner.GetName()}
}

// retainedFor reports whether desired is to be kept after owner's deletion: it carries the
// retained-for annotation naming owner.
func retainedFor(scheme *runtime.Scheme, owner, desired client.Object) bool {
	v, ok := desired.GetAnnotations()[implyv1alpha1.AnnotationRetainedFor]
	return ok && v == RetainedForOwner(scheme, owner)
}
