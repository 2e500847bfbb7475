package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func newRestartCommand(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:   "restart CLUSTER",
		Short: "Roll every node group and the manager, in Druid's order (sets imply.operator.dev/restart)",
		Example: `  kubectl imply restart demo
  kubectl imply restart demo --context prod -n imply`,
		Args: oneArg("the name of an ImplyCluster"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ic, err := o.cluster(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			value := annotationValue(o.Now(), ic.Annotations[implyv1alpha1.AnnotationRestart])
			if err := patchAnnotation(cmd.Context(), c, ic, implyv1alpha1.AnnotationRestart, value); err != nil {
				return err
			}
			printLines(o, ExplainRestart(ic, value))
			return nil
		},
	}
}

// annotationValue is a new value for a trigger annotation: now in RFC 3339 (UTC, nanoseconds
// when the seconds match the previous value, so two calls in one second still differ).
func annotationValue(now time.Time, previous string) string {
	v := now.UTC().Format(time.RFC3339)
	if v == previous {
		v = now.UTC().Format(time.RFC3339Nano)
	}
	return v
}

// patchAnnotation sets one annotation on the cluster with a merge patch guarded by the
// resourceVersion read, so a concurrent edit makes it fail rather than be overwritten.
func patchAnnotation(ctx context.Context, c client.Client, ic *implyv1alpha1.ImplyCluster, key, value string) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"resourceVersion": ic.ResourceVersion,
		"annotations":     map[string]string{key: value},
	}})
	if err != nil {
		return err
	}
	if err := c.Patch(ctx, ic, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("while setting %s on ImplyCluster %s/%s: %w", key, ic.Namespace, ic.Name, err)
	}
	return nil
}

// printLines writes the explanation to stdout.
func printLines(o *Options, lines []string) {
	for _, l := range lines {
		fmt.Fprintln(o.out(), l)
	}
}
