package plugin

import (
	"fmt"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

func newRotateCACommand(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:     "rotate-ca CLUSTER",
		Short:   "Rotate the generated CA in three phases without breaking trust (sets imply.operator.dev/rotate-ca)",
		Example: `  kubectl imply rotate-ca demo`,
		Args:    oneArg("the name of an ImplyCluster"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ic, err := o.cluster(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if err := rotatable(ic); err != nil {
				return err
			}
			phase := ""
			bundle := &metav1.PartialObjectMetadata{}
			bundle.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMap"))
			err = c.Get(cmd.Context(), client.ObjectKey{Namespace: ic.Namespace, Name: specs.CABundleName(ic.Name)}, bundle)
			switch {
			case err == nil:
				phase = caRotationPhases[bundle.Annotations[implyv1alpha1.AnnotationCARotationPhase]]
			case !apierrors.IsNotFound(err) && !apierrors.IsForbidden(err):
				return fmt.Errorf("while reading the CA bundle's metadata: %w", err)
			}
			value := annotationValue(o.Now(), ic.Annotations[implyv1alpha1.AnnotationRotateCA])
			if err := patchAnnotation(cmd.Context(), c, ic, implyv1alpha1.AnnotationRotateCA, value); err != nil {
				return err
			}
			printLines(o, ExplainRotateCA(ic, value, phase, o.Now()))
			return nil
		},
	}
}

// rotatable refuses a rotation the operator would not perform: rotate-ca rotates the CA the
// operator generates, not the user's or an issuer's.
func rotatable(c *implyv1alpha1.ImplyCluster) error {
	if !tlsEnabled(c) {
		return fmt.Errorf("ImplyCluster %s/%s runs without TLS (spec.security.tls.enabled: false): it has no CA to rotate", c.Namespace, c.Name)
	}
	switch src := caSource(c); src {
	case "generated":
		return nil
	default:
		return fmt.Errorf("the CA of ImplyCluster %s/%s comes from %s, not from the operator: put the new CA there and the operator moves to it in the same three phases; rotate-ca only rotates a generated CA", c.Namespace, c.Name, src)
	}
}
