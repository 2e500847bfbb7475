package plugin

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// StatusInput is what `kubectl imply status` reads from the API.
type StatusInput struct {
	// Cluster is the ImplyCluster.
	Cluster *implyv1alpha1.ImplyCluster
	// CABundle is <cluster>-ca-bundle, nil when it does not exist.
	CABundle *corev1.ConfigMap
	// CASecret is the metadata of <cluster>-ca, nil when it does not exist (TLS off, user CA).
	CASecret *metav1.PartialObjectMetadata
	// AuthTokens and DruidRoles of the namespace; BuildStatusReport keeps the cluster's.
	AuthTokens []implyv1alpha1.AuthToken
	DruidRoles []implyv1alpha1.DruidRole
}

// StatusReport is the state of one ImplyCluster as `kubectl imply status` shows it; -o json|yaml
// prints it as is.
type StatusReport struct {
	Cluster            string                          `json:"cluster"`
	Namespace          string                          `json:"namespace"`
	Version            string                          `json:"version"`
	Generation         int64                           `json:"generation"`
	ObservedGeneration int64                           `json:"observedGeneration"`
	TLS                bool                            `json:"tls"`
	Conditions         []ConditionView                 `json:"conditions"`
	NodeGroups         []implyv1alpha1.NodeGroupStatus `json:"nodeGroups"`
	Certificates       []CertificateView               `json:"certificates"`
	CA                 *CAView                         `json:"ca,omitempty"`
	Rollout            RolloutView                     `json:"rollout"`
	Endpoints          implyv1alpha1.EndpointsStatus   `json:"endpoints"`
	AuthTokens         []ObjectView                    `json:"authTokens"`
	DruidRoles         []ObjectView                    `json:"druidRoles"`
}

// ConditionView is one condition.
type ConditionView struct {
	Type               string    `json:"type"`
	Status             string    `json:"status"`
	Reason             string    `json:"reason,omitempty"`
	Message            string    `json:"message,omitempty"`
	LastTransitionTime time.Time `json:"lastTransitionTime"`
}

// CertificateView is one live certificate with its days left.
type CertificateView struct {
	SecretName  string     `json:"secretName"`
	NotAfter    *time.Time `json:"notAfter,omitempty"`
	DaysLeft    *int       `json:"daysLeft,omitempty"`
	RenewalTime *time.Time `json:"renewalTime,omitempty"`
	Serial      string     `json:"serial,omitempty"`
}

// CAView is the cluster's CA: where it comes from, the CAs the bundle trusts, and any rotation.
type CAView struct {
	// Source is "generated", "secret <name>" or "issuer <kind>/<name>".
	Source string `json:"source"`
	// Trusted are the CAs in <cluster>-ca-bundle, the signing one first.
	Trusted []TrustedCA `json:"trusted"`
	// BundleProblem says why the bundle could not be read, empty when it could.
	BundleProblem string `json:"bundleProblem,omitempty"`
	// RotationPhase is the rotation under way (TrustBoth, SignWithNew, DropOld), empty when none.
	RotationPhase string `json:"rotationPhase,omitempty"`
	// RotationRequested is the rotate-ca value the operator answered last.
	RotationRequested string `json:"rotationRequested,omitempty"`
	// RotationPending is a rotate-ca value the operator has not started yet.
	RotationPending string `json:"rotationPending,omitempty"`
}

// TrustedCA is one CA certificate of the bundle.
type TrustedCA struct {
	Subject  string    `json:"subject"`
	Serial   string    `json:"serial"`
	NotAfter time.Time `json:"notAfter"`
	DaysLeft int       `json:"daysLeft"`
}

// RolloutView is the rollout state and what gates it.
type RolloutView struct {
	Phase        string     `json:"phase"`
	Reason       string     `json:"reason,omitempty"`
	CurrentGroup string     `json:"currentGroup,omitempty"`
	NextWindow   *time.Time `json:"nextWindow,omitempty"`
	Paused       bool       `json:"paused"`
	// Windows are the maintenance windows as "<schedule> for <duration>".
	Windows []string `json:"windows,omitempty"`
}

// ObjectView is an AuthToken or DruidRole of the cluster with its state.
type ObjectView struct {
	Name string `json:"name"`
	// Detail is the token's type and user, or the role's Druid name.
	Detail  string `json:"detail,omitempty"`
	Ready   string `json:"ready"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// Synced is a DruidRole's Synced condition status.
	Synced string `json:"synced,omitempty"`
	// NextRotation is an AuthToken's next rotation.
	NextRotation *time.Time `json:"nextRotation,omitempty"`
}

// caRotationPhases describes the operator's CA rotation phases.
var caRotationPhases = map[string]string{
	"TrustBoth":   "phase 1/3: the new CA is trusted beside the old one; leaves are still signed by the old one",
	"SignWithNew": "phase 2/3: leaves are signed by the new CA; the old one is still trusted",
	"DropOld":     "phase 3/3: the old CA is dropped from the bundle and truststores",
}

// BuildStatusReport turns what status read into the report, at now.
func BuildStatusReport(in StatusInput, now time.Time) StatusReport {
	c := in.Cluster
	r := StatusReport{
		Cluster:            c.Name,
		Namespace:          c.Namespace,
		Version:            c.Spec.Version,
		Generation:         c.Generation,
		ObservedGeneration: c.Status.ObservedGeneration,
		TLS:                tlsEnabled(c),
		NodeGroups:         c.Status.NodeGroups,
		Conditions:         conditionViews(c.Status.Conditions),
		Rollout:            rolloutView(c),
		AuthTokens:         authTokenViews(c, in.AuthTokens),
		DruidRoles:         druidRoleViews(c, in.DruidRoles),
	}
	if c.Status.Endpoints != nil {
		r.Endpoints = *c.Status.Endpoints
	}
	for _, cs := range c.Status.Certificates {
		v := CertificateView{SecretName: cs.SecretName, Serial: cs.Serial}
		if cs.NotAfter != nil {
			v.NotAfter = ptr.To(cs.NotAfter.UTC())
			v.DaysLeft = ptr.To(daysLeft(cs.NotAfter.Time, now))
		}
		if cs.RenewalTime != nil {
			v.RenewalTime = ptr.To(cs.RenewalTime.UTC())
		}
		r.Certificates = append(r.Certificates, v)
	}
	if r.TLS {
		r.CA = caView(c, in.CABundle, in.CASecret, now)
	}
	return r
}

// tlsEnabled reports spec.security.tls.enabled (on unless the spec turns it off).
func tlsEnabled(c *implyv1alpha1.ImplyCluster) bool {
	return c.Spec.Security == nil || c.Spec.Security.TLS == nil || c.Spec.Security.TLS.Enabled
}

// daysLeft is the whole days from now until t, negative once t has passed.
func daysLeft(t, now time.Time) int {
	return int(math.Floor(t.Sub(now).Hours() / 24))
}

func conditionViews(conds []metav1.Condition) []ConditionView {
	out := make([]ConditionView, 0, len(conds))
	for _, c := range conds {
		out = append(out, ConditionView{Type: c.Type, Status: string(c.Status), Reason: c.Reason, Message: c.Message,
			LastTransitionTime: c.LastTransitionTime.UTC()})
	}
	return out
}

func rolloutView(c *implyv1alpha1.ImplyCluster) RolloutView {
	v := RolloutView{Phase: string(implyv1alpha1.RolloutIdle)}
	if s := c.Status.Rollout; s != nil {
		v.Phase, v.Reason, v.CurrentGroup = string(s.Phase), s.Reason, s.CurrentGroup
		if s.NextWindow != nil {
			v.NextWindow = ptr.To(s.NextWindow.UTC())
		}
	}
	if ro := c.Spec.Rollout; ro != nil {
		v.Paused = ro.Paused
		for _, w := range ro.MaintenanceWindows {
			v.Windows = append(v.Windows, fmt.Sprintf("%s for %s", w.Schedule, w.Duration.Duration))
		}
	}
	return v
}

// caSource says where the cluster's CA comes from.
func caSource(c *implyv1alpha1.ImplyCluster) string {
	var ca *implyv1alpha1.CASpec
	if c.Spec.Security != nil && c.Spec.Security.TLS != nil {
		ca = c.Spec.Security.TLS.CA
	}
	switch {
	case ca == nil || ca.Generate != nil:
		return "generated"
	case ca.SecretRef != nil:
		return "secret " + ca.SecretRef.Name
	case ca.IssuerRef != nil:
		kind := ca.IssuerRef.Kind
		if kind == "" {
			kind = "Issuer"
		}
		return "issuer " + kind + "/" + ca.IssuerRef.Name
	}
	return "unknown"
}

func caView(c *implyv1alpha1.ImplyCluster, bundle *corev1.ConfigMap, secret *metav1.PartialObjectMetadata, now time.Time) *CAView {
	v := &CAView{Source: caSource(c)}
	if bundle == nil {
		v.BundleProblem = "ConfigMap " + specs.CABundleName(c.Name) + " does not exist yet"
	} else {
		certs, err := pki.ParseBundle([]byte(bundle.Data[specs.TLSCAKey]))
		if err != nil {
			v.BundleProblem = err.Error()
		}
		for _, cert := range certs {
			v.Trusted = append(v.Trusted, TrustedCA{Subject: cert.Subject.String(), Serial: fmt.Sprintf("%x", cert.SerialNumber),
				NotAfter: cert.NotAfter.UTC(), DaysLeft: daysLeft(cert.NotAfter, now)})
		}
	}
	if bundle != nil {
		// The operator records the phase of any change of the signing CA on the bundle.
		v.RotationPhase = bundle.Annotations[implyv1alpha1.AnnotationCARotationPhase]
	}
	if secret != nil {
		v.RotationRequested = secret.Annotations[implyv1alpha1.AnnotationCARotationRequested]
	}
	if want := c.Annotations[implyv1alpha1.AnnotationRotateCA]; want != "" && secret != nil && want != v.RotationRequested {
		v.RotationPending = want
	}
	return v
}

// authTokenViews keeps the cluster's tokens: its agent token (security.auth.tokenRef) and the Druid
// users whose clusterRef names it, sorted by name.
func authTokenViews(c *implyv1alpha1.ImplyCluster, tokens []implyv1alpha1.AuthToken) []ObjectView {
	agent := ""
	if c.Spec.Security != nil && c.Spec.Security.Auth != nil && c.Spec.Security.Auth.TokenRef != nil {
		agent = c.Spec.Security.Auth.TokenRef.Name
	}
	out := []ObjectView{}
	for i := range tokens {
		t := &tokens[i]
		ofCluster := (t.Spec.Type == implyv1alpha1.AuthTokenAgent && t.Name == agent) ||
			(t.Spec.Type == implyv1alpha1.AuthTokenDruid && t.Spec.ClusterRef != nil && t.Spec.ClusterRef.Name == c.Name)
		if !ofCluster {
			continue
		}
		v := objectView(t.Name, t.Status.Conditions)
		v.Detail = string(t.Spec.Type)
		if t.Spec.Username != "" {
			v.Detail += " user " + t.Spec.Username
		}
		if t.Status.NextRotation != nil {
			v.NextRotation = ptr.To(t.Status.NextRotation.UTC())
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// druidRoleViews keeps the roles whose clusterRef names the cluster, sorted by name.
func druidRoleViews(c *implyv1alpha1.ImplyCluster, roles []implyv1alpha1.DruidRole) []ObjectView {
	out := []ObjectView{}
	for i := range roles {
		r := &roles[i]
		if r.Spec.ClusterRef.Name != c.Name {
			continue
		}
		v := objectView(r.Name, r.Status.Conditions)
		name := r.Spec.RoleName
		if name == "" {
			name = r.Name
		}
		v.Detail = "role " + name
		if s := meta.FindStatusCondition(r.Status.Conditions, implyv1alpha1.ConditionSynced); s != nil {
			v.Synced = string(s.Status)
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// objectView reads the Ready condition; an object the operator has not looked at yet is Unknown.
func objectView(name string, conds []metav1.Condition) ObjectView {
	v := ObjectView{Name: name, Ready: string(metav1.ConditionUnknown), Reason: "NotReconciled"}
	if r := meta.FindStatusCondition(conds, implyv1alpha1.ConditionReady); r != nil {
		v.Ready, v.Reason, v.Message = string(r.Status), r.Reason, r.Message
	}
	return v
}

// relative renders t against now as "in 89d", "in 5h", "in 12m", "3d ago", "now".
func relative(t, now time.Time) string {
	d := t.Sub(now)
	suffix := func(s string) string { return "in " + s }
	if d < 0 {
		d = -d
		suffix = func(s string) string { return s + " ago" }
	}
	switch {
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		return suffix(fmt.Sprintf("%dm", int(d.Minutes())))
	case d < 48*time.Hour:
		return suffix(fmt.Sprintf("%dh", int(d.Hours())))
	default:
		return suffix(fmt.Sprintf("%dd", int(d.Hours()/24)))
	}
}

// when renders t as RFC 3339 with its relative time, such as "2027-03-01T00:00:00Z (in 89d)".
func when(t time.Time, now time.Time) string {
	return t.UTC().Format(time.RFC3339) + " (" + relative(t, now) + ")"
}

// oneLine flattens a message to one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
