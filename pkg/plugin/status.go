package plugin

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

func newStatusCommand(o *Options) *cobra.Command {
	var output, color string
	cmd := &cobra.Command{
		Use:   "status CLUSTER",
		Short: "Conditions, node groups, certificates, CA, rollout, endpoints, AuthTokens and DruidRoles of a cluster",
		Example: `  kubectl imply status demo
  kubectl imply status demo -n imply -o yaml`,
		Args: oneArg("the name of an ImplyCluster"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "" && output != "json" && output != "yaml" {
				return usagef("-o must be json or yaml, got %q", output)
			}
			useColor, err := colorEnabled(color, o.out())
			if err != nil {
				return err
			}
			in, err := o.gatherStatus(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			now := o.Now()
			report := BuildStatusReport(*in, now)
			switch output {
			case "json":
				enc := json.NewEncoder(o.out())
				enc.SetIndent("", "  ")
				return enc.Encode(report)
			case "yaml":
				data, err := yaml.Marshal(report)
				if err != nil {
					return fmt.Errorf("while writing YAML: %w", err)
				}
				_, err = o.out().Write(data)
				return err
			}
			FormatStatus(o.out(), report, useColor, now)
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "Output format: json or yaml (default: a report for people)")
	cmd.Flags().StringVar(&color, "color", "auto", "Colour: auto (on a terminal unless NO_COLOR is set), always or never")
	return cmd
}

// gatherStatus reads the cluster, its CA bundle, the CA Secret's metadata (never its data), and the
// namespace's AuthTokens and DruidRoles.
func (o *Options) gatherStatus(ctx context.Context, name string) (*StatusInput, error) {
	c, ic, err := o.cluster(ctx, name)
	if err != nil {
		return nil, err
	}
	in := &StatusInput{Cluster: ic}
	var bundle corev1.ConfigMap
	switch err := c.Get(ctx, client.ObjectKey{Namespace: ic.Namespace, Name: specs.CABundleName(ic.Name)}, &bundle); {
	case err == nil:
		in.CABundle = &bundle
	case !apierrors.IsNotFound(err):
		return nil, fmt.Errorf("while reading the CA bundle: %w", err)
	}
	secret := &metav1.PartialObjectMetadata{}
	secret.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	switch err := c.Get(ctx, client.ObjectKey{Namespace: ic.Namespace, Name: specs.CASecretName(ic.Name)}, secret); {
	case err == nil:
		in.CASecret = secret
	case apierrors.IsNotFound(err), apierrors.IsForbidden(err):
		// No generated CA, or no right to read Secrets: the rotation phase is then unknown.
	default:
		return nil, fmt.Errorf("while reading the CA Secret's metadata: %w", err)
	}
	var tokens implyv1alpha1.AuthTokenList
	if err := c.List(ctx, &tokens, client.InNamespace(ic.Namespace)); err != nil {
		return nil, fmt.Errorf("while listing AuthTokens: %w", err)
	}
	in.AuthTokens = tokens.Items
	var roles implyv1alpha1.DruidRoleList
	if err := c.List(ctx, &roles, client.InNamespace(ic.Namespace)); err != nil {
		return nil, fmt.Errorf("while listing DruidRoles: %w", err)
	}
	in.DruidRoles = roles.Items
	return in, nil
}
