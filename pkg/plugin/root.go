// Package plugin is `kubectl imply`: status, CA export, restarts, CA rotation, rollout pause and
// resume, credentials and support reports for ImplyClusters. Each subcommand gathers what it
// needs from the API in its own file and renders it with pure functions, tested without a cluster.
package plugin

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// Options is what every subcommand shares: the kubectl flags, the streams and the clock.
type Options struct {
	// ConfigFlags are kubectl's --kubeconfig, --context, --namespace and friends.
	ConfigFlags *genericclioptions.ConfigFlags
	// Streams are stdin, stdout and stderr.
	Streams genericiooptions.IOStreams
	// Now is the clock; tests pin it.
	Now func() time.Time

	client    client.Client
	clientset kubernetes.Interface
}

// NewOptions returns Options on the real clock with kubectl's default flags.
func NewOptions(streams genericiooptions.IOStreams) *Options {
	return &Options{
		ConfigFlags: genericclioptions.NewConfigFlags(true),
		Streams:     streams,
		Now:         time.Now,
	}
}

// Scheme knows the Kubernetes built-in kinds and the operator's.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := implyv1alpha1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}

// NewCommand builds `kubectl imply` and its subcommands.
func NewCommand(o *Options) *cobra.Command {
	root := &cobra.Command{
		Use:   "kubectl-imply",
		Short: "Inspect and operate ImplyClusters run by imply-operator",
		Long: `kubectl imply shows the state of an ImplyCluster (conditions, node groups, certificates,
CA, rollout, endpoints, API users and roles), exports its CA bundle, triggers restarts and CA
rotations, pauses and resumes rollouts, prints credentials and builds support reports.

Exit codes: 0 success, 1 error, 2 bad usage, 3 the named object does not exist.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs,
		RunE:          helpOrUnknown,
		Annotations: map[string]string{
			cobra.CommandDisplayNameAnnotation: "kubectl imply",
		},
	}
	root.SetIn(o.Streams.In)
	root.SetOut(o.Streams.Out)
	root.SetErr(o.Streams.ErrOut)
	o.ConfigFlags.AddFlags(root.PersistentFlags())
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newStatusCommand(o),
		newCACommand(o),
		newRestartCommand(o),
		newRotateCACommand(o),
		newRolloutCommand(o),
		newCredentialsCommand(o),
		newReportCommand(o),
	)
	return root
}

// helpOrUnknown is the RunE of a command that only groups subcommands: help without arguments,
// a usage error naming an unknown subcommand otherwise.
func helpOrUnknown(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unknown command %q for %q; see %s --help", args[0], cmd.CommandPath(), cmd.CommandPath())
	}
	return cmd.Help()
}

// clients builds the API clients from the kubectl flags, once.
func (o *Options) clients() (client.Client, kubernetes.Interface, error) {
	if o.client != nil {
		return o.client, o.clientset, nil
	}
	cfg, err := o.ConfigFlags.ToRESTConfig()
	if err != nil {
		return nil, nil, fmt.Errorf("while loading the kubeconfig: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: Scheme()})
	if err != nil {
		return nil, nil, fmt.Errorf("while connecting to the API server: %w", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("while connecting to the API server: %w", err)
	}
	o.client, o.clientset = c, cs
	return c, cs, nil
}

// namespace is --namespace, else the kubeconfig context's namespace, else "default".
func (o *Options) namespace() (string, error) {
	ns, _, err := o.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return "", fmt.Errorf("while reading the namespace from the kubeconfig: %w", err)
	}
	return ns, nil
}

// cluster reads the ImplyCluster name in the current namespace; a missing one is a notFoundError.
func (o *Options) cluster(ctx context.Context, name string) (client.Client, *implyv1alpha1.ImplyCluster, error) {
	c, _, err := o.clients()
	if err != nil {
		return nil, nil, err
	}
	ns, err := o.namespace()
	if err != nil {
		return nil, nil, err
	}
	var ic implyv1alpha1.ImplyCluster
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &ic); err != nil {
		return nil, nil, notFoundOr(err, "ImplyCluster", ns, name)
	}
	return c, &ic, nil
}

// out and errOut are the output streams.
func (o *Options) out() io.Writer    { return o.Streams.Out }
func (o *Options) errOut() io.Writer { return o.Streams.ErrOut }
