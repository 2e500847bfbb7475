package plugin

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/yaml"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// operatorPodSelector finds the operator's pods (config/manager and the Helm chart label them so).
const operatorPodSelector = "app.kubernetes.io/name=imply-operator"

func newReportCommand(o *Options) *cobra.Command {
	var file, operatorLog, operatorNamespace string
	cmd := &cobra.Command{
		Use:   "report CLUSTER",
		Short: "A .tar.gz for support: the cluster's resources, owned objects (Secrets as metadata only), events, operator log lines",
		Long: `Write a gzip-compressed tar with: the ImplyCluster, its AuthTokens, DruidRoles and
SecurityPolicy; every object labelled imply.operator.dev/cluster=CLUSTER (Secrets as metadata only:
never data or stringData, and without kubectl's last-applied-configuration); the events about all
of them; the output of kubectl imply status; and the operator's log lines that name the cluster,
from the operator's pods (label ` + operatorPodSelector + `) or from --operator-log.`,
		Example: `  kubectl imply report demo
  kubectl imply report demo -o /tmp/demo.tar.gz --operator-log operator.log`,
		Args: oneArg("the name of an ImplyCluster"),
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := o.gatherReport(cmd.Context(), args[0], operatorLog, operatorNamespace)
			if err != nil {
				return err
			}
			ns, _ := o.namespace()
			now := o.Now().UTC()
			top := fmt.Sprintf("imply-report-%s-%s-%s", ns, args[0], now.Format("20060102T150405Z"))
			if file == "" {
				file = top + ".tar.gz"
			}
			var buf bytes.Buffer
			if err := WriteArchive(&buf, top, files, now); err != nil {
				return err
			}
			if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
				return fmt.Errorf("while writing %s: %w", file, err)
			}
			fmt.Fprintf(o.out(), "Wrote %s (%d files, %d bytes); Secrets are metadata only.\n", file, len(files), buf.Len())
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "output", "o", "", "Archive to write (default imply-report-<namespace>-<cluster>-<time>.tar.gz)")
	cmd.Flags().StringVar(&operatorLog, "operator-log", "", "Read the operator's log from this file instead of its pods")
	cmd.Flags().StringVar(&operatorNamespace, "operator-namespace", "", "Namespace of the operator's pods (default: all namespaces)")
	return cmd
}

// gatherReport reads everything the report holds and renders it into files.
func (o *Options) gatherReport(ctx context.Context, name, operatorLog, operatorNamespace string) ([]ArchiveFile, error) {
	in, err := o.gatherStatus(ctx, name)
	if err != nil {
		return nil, err
	}
	c, cs, err := o.clients()
	if err != nil {
		return nil, err
	}
	ic := in.Cluster
	b := newReportBuilder(c, ic)
	report := BuildStatusReport(*in, o.Now())
	var status bytes.Buffer
	FormatStatus(&status, report, false, o.Now())
	b.files = append(b.files, ArchiveFile{Name: "status.txt", Data: status.Bytes()})
	if err := b.addCustomResources(ctx, in, report); err != nil {
		return nil, err
	}
	if err := b.addOwnedObjects(ctx); err != nil {
		return nil, err
	}
	if err := b.addSecretsMetadata(ctx); err != nil {
		return nil, err
	}
	if err := b.addEvents(ctx); err != nil {
		return nil, err
	}
	// The operator's log lines about the cluster.
	logLines, logNotes := o.operatorLogLines(ctx, cs, operatorLog, operatorNamespace, ic.Namespace, ic.Name)
	b.notes = append(b.notes, logNotes...)
	if len(logLines) > 0 {
		b.files = append(b.files, ArchiveFile{Name: "operator.log", Data: []byte(strings.Join(logLines, "\n") + "\n")})
	}

	summary := reportSummary(ic, o.Now(), b.files, b.notes)
	return append([]ArchiveFile{{Name: "README.txt", Data: []byte(summary)}}, b.files...), nil
}

// reportBuilder collects the files of one cluster's report, in order, with notes on what is
// missing. It remembers the names of the objects it added, so that the events about them can be
// kept, and the names of the Secrets whose metadata the report holds.
type reportBuilder struct {
	c       client.Client
	scheme  *runtime.Scheme
	cluster *implyv1alpha1.ImplyCluster
	ns      string
	files   []ArchiveFile
	notes   []string
	// names are the objects in the report, whose events it keeps.
	names map[string]bool
	// secretNames are Secrets the operator makes for the cluster under a name of their own, read
	// even when they lack the cluster label.
	secretNames map[string]bool
}

func newReportBuilder(c client.Client, ic *implyv1alpha1.ImplyCluster) *reportBuilder {
	return &reportBuilder{
		c:           c,
		scheme:      c.Scheme(),
		cluster:     ic,
		ns:          ic.Namespace,
		names:       map[string]bool{ic.Name: true},
		secretNames: map[string]bool{specs.CASecretName(ic.Name): true, specs.DruidCredentialsName(ic.Name): true},
	}
}

// add renders obj into dir/NAME.yaml.
func (b *reportBuilder) add(dir string, obj client.Object) error {
	data, err := objectYAML(b.scheme, obj)
	if err != nil {
		return err
	}
	b.names[obj.GetName()] = true
	b.files = append(b.files, ArchiveFile{Name: path.Join(dir, obj.GetName()+".yaml"), Data: data})
	return nil
}

// addCustomResources adds the ImplyCluster, the AuthTokens and DruidRoles the status report
// lists, and the SecurityPolicy the cluster refers to.
func (b *reportBuilder) addCustomResources(ctx context.Context, in *StatusInput, report StatusReport) error {
	if err := b.add("imply", b.cluster); err != nil {
		return err
	}
	wanted := map[string]bool{}
	for _, t := range report.AuthTokens {
		wanted["AuthToken/"+t.Name] = true
	}
	for _, r := range report.DruidRoles {
		wanted["DruidRole/"+r.Name] = true
	}
	for i := range in.AuthTokens {
		t := &in.AuthTokens[i]
		if wanted["AuthToken/"+t.Name] {
			if err := b.add("imply/authtokens", t); err != nil {
				return err
			}
			b.secretNames[specs.AuthTokenSecretName(t.Name)] = true
			b.secretNames[specs.DruidUserCredentialsName(t.Name)] = true
			if t.Status.SecretName != "" {
				b.secretNames[t.Status.SecretName] = true
			}
		}
	}
	for i := range in.DruidRoles {
		if r := &in.DruidRoles[i]; wanted["DruidRole/"+r.Name] {
			if err := b.add("imply/druidroles", r); err != nil {
				return err
			}
		}
	}
	return b.addSecurityPolicy(ctx)
}

// addSecurityPolicy adds the SecurityPolicy of spec.security.securityPolicyRef, or a note when it
// does not exist.
func (b *reportBuilder) addSecurityPolicy(ctx context.Context) error {
	ref := b.cluster.Spec.Security
	if ref == nil || ref.SecurityPolicyRef == nil {
		return nil
	}
	var p implyv1alpha1.SecurityPolicy
	switch err := b.c.Get(ctx, client.ObjectKey{Namespace: b.ns, Name: ref.SecurityPolicyRef.Name}, &p); {
	case err == nil:
		return b.add("imply/securitypolicies", &p)
	case apierrors.IsNotFound(err):
		b.notes = append(b.notes, fmt.Sprintf("SecurityPolicy %s (spec.security.securityPolicyRef) does not exist", ref.SecurityPolicyRef.Name))
		return nil
	default:
		return fmt.Errorf("while reading SecurityPolicy %s: %w", ref.SecurityPolicyRef.Name, err)
	}
}

// clusterSelector selects the objects labelled with the cluster's name, as everything the
// operator makes for it is.
func (b *reportBuilder) clusterSelector() client.MatchingLabels {
	return client.MatchingLabels{specs.LabelCluster: b.cluster.Name}
}

// addOwnedObjects adds the objects the operator made for the cluster, found by the cluster label
// every one of them carries; Secrets are left to addSecretsMetadata.
func (b *reportBuilder) addOwnedObjects(ctx context.Context) error {
	lists := []client.ObjectList{
		&appsv1.StatefulSetList{}, &appsv1.DeploymentList{}, &corev1.ServiceList{}, &corev1.ConfigMapList{},
		&policyv1.PodDisruptionBudgetList{}, &networkingv1.NetworkPolicyList{}, &corev1.PodList{},
		&corev1.PersistentVolumeClaimList{},
	}
	for _, list := range lists {
		if err := b.c.List(ctx, list, client.InNamespace(b.ns), b.clusterSelector()); err != nil {
			return fmt.Errorf("while listing %T: %w", list, err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return err
		}
		for _, item := range items {
			obj := item.(client.Object)
			gvk, err := apiutil.GVKForObject(obj, b.scheme)
			if err != nil {
				return err
			}
			if err := b.add("objects/"+strings.ToLower(gvk.Kind), obj); err != nil {
				return err
			}
		}
	}
	return nil
}

// addSecretsMetadata adds the metadata of the cluster's Secrets, those labelled and those named in
// secretNames, read through the metadata API so their data never reaches this process.
func (b *reportBuilder) addSecretsMetadata(ctx context.Context) error {
	secretList := &metav1.PartialObjectMetadataList{}
	secretList.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
	if err := b.c.List(ctx, secretList, client.InNamespace(b.ns), b.clusterSelector()); err != nil {
		return fmt.Errorf("while listing Secrets' metadata: %w", err)
	}
	secrets := map[string]metav1.PartialObjectMetadata{}
	for _, s := range secretList.Items {
		secrets[s.Name] = s
	}
	for n := range b.secretNames {
		if _, ok := secrets[n]; ok {
			continue
		}
		s := metav1.PartialObjectMetadata{}
		s.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
		switch err := b.c.Get(ctx, client.ObjectKey{Namespace: b.ns, Name: n}, &s); {
		case err == nil:
			secrets[n] = s
		case !apierrors.IsNotFound(err):
			return fmt.Errorf("while reading Secret %s's metadata: %w", n, err)
		}
	}
	for _, n := range sortedKeys(secrets) {
		s := secrets[n]
		out := metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: SecretMetadataOnly(s.ObjectMeta)}
		data, err := yaml.Marshal(out)
		if err != nil {
			return err
		}
		b.names[n] = true
		b.files = append(b.files, ArchiveFile{Name: "objects/secret/" + n + ".yaml", Data: data})
	}
	return nil
}

// addEvents adds the events about any object in the report so far, oldest first.
func (b *reportBuilder) addEvents(ctx context.Context) error {
	var events corev1.EventList
	if err := b.c.List(ctx, &events, client.InNamespace(b.ns)); err != nil {
		return fmt.Errorf("while listing events: %w", err)
	}
	var kept []corev1.Event
	for _, e := range events.Items {
		if b.names[e.InvolvedObject.Name] {
			e.ManagedFields = nil
			kept = append(kept, e)
		}
	}
	sort.Slice(kept, func(i, j int) bool { return eventTime(kept[i]).Before(eventTime(kept[j])) })
	data, err := yaml.Marshal(map[string]any{"apiVersion": "v1", "kind": "EventList", "items": kept})
	if err != nil {
		return err
	}
	b.files = append(b.files, ArchiveFile{Name: "events.yaml", Data: data})
	return nil
}

// objectYAML renders obj with its kind and without managed fields.
func objectYAML(scheme *runtime.Scheme, obj client.Object) ([]byte, error) {
	obj = obj.DeepCopyObject().(client.Object)
	gvk, err := apiutil.GVKForObject(obj, scheme)
	if err != nil {
		return nil, err
	}
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	obj.SetManagedFields(nil)
	return yaml.Marshal(obj)
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	default:
		return e.CreationTimestamp.Time
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// reportSummary is the archive's README.txt: what it holds and what it lacks.
func reportSummary(ic *implyv1alpha1.ImplyCluster, now time.Time, files []ArchiveFile, notes []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "kubectl imply report of ImplyCluster %s/%s, %s\n\n", ic.Namespace, ic.Name, now.UTC().Format(time.RFC3339))
	b.WriteString("Secrets are metadata only: no data, no stringData, no last-applied-configuration.\n\n")
	for _, f := range files {
		fmt.Fprintf(&b, "  %s\n", f.Name)
	}
	if len(notes) > 0 {
		b.WriteString("\nNotes:\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "  %s\n", n)
		}
	}
	return b.String()
}
