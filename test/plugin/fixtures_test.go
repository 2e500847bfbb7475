package plugin

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// createCluster creates the cluster and writes the status the operator would: conditions, a node
// group, a certificate, endpoints and a pending rollout.
func createCluster(t *testing.T, c *implyv1alpha1.ImplyCluster) *implyv1alpha1.ImplyCluster {
	t.Helper()
	ctx := context.Background()
	if err := k8s.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	c.Status = implyv1alpha1.ImplyClusterStatus{
		ObservedGeneration: c.Generation,
		Conditions: []metav1.Condition{
			{Type: "Ready", Status: metav1.ConditionTrue, Reason: "AllReplicasReady", Message: "every group is ready", LastTransitionTime: metav1.NewTime(now)},
			{Type: "RestartPending", Status: metav1.ConditionTrue, Reason: "AwaitingMaintenanceWindow", Message: "renewed certificates wait", LastTransitionTime: metav1.NewTime(now)},
		},
		NodeGroups: []implyv1alpha1.NodeGroupStatus{{Name: "data", Type: "data", Replicas: 2, ReadyReplicas: 2, UpdatedReplicas: 2, Revision: c.Name + "-data-5d8"}},
		Certificates: []implyv1alpha1.CertificateStatus{{SecretName: c.Name + "-data-tls", Serial: "1f2e",
			NotAfter: &metav1.Time{Time: now.Add(89*24*time.Hour + time.Hour)}, RenewalTime: &metav1.Time{Time: now.Add(59*24*time.Hour + time.Hour)}}},
		NextCertificateExpiry: &metav1.Time{Time: now.Add(89*24*time.Hour + time.Hour)},
		Endpoints:             &implyv1alpha1.EndpointsStatus{Router: "https://" + c.Name + "-query." + c.Namespace + ".svc:9088", Coordinator: "https://" + c.Name + "-master." + c.Namespace + ".svc:8281"},
		Rollout:               &implyv1alpha1.RolloutStatus{Phase: implyv1alpha1.RolloutPending, Reason: "AwaitingMaintenanceWindow", NextWindow: &metav1.Time{Time: now.Add(14 * time.Hour)}},
	}
	if err := k8s.Status().Update(ctx, c); err != nil {
		t.Fatal(err)
	}
	return c
}

// createCA writes <cluster>-ca-bundle with a fresh CA and <cluster>-ca with the rotation phase (none
// when empty) and returns the CA.
func createCA(t *testing.T, c *implyv1alpha1.ImplyCluster, phase string) *pki.KeyPair {
	t.Helper()
	ctx := context.Background()
	kp, err := pki.CreateRootCA(clock.RealClock{}, c.Name+"-ca", implyv1alpha1.KeyAlgorithmECDSAP256, 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{specs.LabelCluster: c.Name, specs.LabelManagedBy: specs.ManagedBy}
	bundle := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: specs.CABundleName(c.Name), Namespace: c.Namespace, Labels: labels,
		Annotations: map[string]string{implyv1alpha1.AnnotationCARotationPhase: phase}},
		Data: map[string]string{specs.TLSCAKey: string(kp.CertPEM)}}
	if err := k8s.Create(ctx, bundle); err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: specs.CASecretName(c.Name), Namespace: c.Namespace, Labels: labels,
		Annotations: map[string]string{implyv1alpha1.AnnotationCARotationRequested: "r1"}},
		Data: map[string][]byte{"ca.crt": kp.CertPEM, "ca.key": kp.KeyPEM}}
	if err := k8s.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	return kp
}

// druidUser creates an AuthToken of type Druid of cluster with its credentials Secret and a Ready
// status.
func druidUser(t *testing.T, ns, name, cluster, username, password string) *implyv1alpha1.AuthToken {
	t.Helper()
	ctx := context.Background()
	tok := &implyv1alpha1.AuthToken{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: implyv1alpha1.AuthTokenSpec{
		Type: implyv1alpha1.AuthTokenDruid, ClusterRef: &implyv1alpha1.LocalObjectReference{Name: cluster}, Username: username}}
	if err := k8s.Create(ctx, tok); err != nil {
		t.Fatal(err)
	}
	tok.Status = implyv1alpha1.AuthTokenStatus{SecretName: specs.DruidUserCredentialsName(name),
		NextRotation: &metav1.Time{Time: time.Now().Add(30 * 24 * time.Hour)},
		Conditions:   []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Synced", Message: "user in Druid", LastTransitionTime: metav1.Now()}}}
	if err := k8s.Status().Update(ctx, tok); err != nil {
		t.Fatal(err)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: specs.DruidUserCredentialsName(name), Namespace: ns,
		Labels: map[string]string{specs.LabelManagedBy: specs.ManagedBy}},
		Type: corev1.SecretTypeBasicAuth, Data: map[string][]byte{"username": []byte(username), "password": []byte(password)}}
	if err := k8s.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	return tok
}

// druidRole creates a DruidRole of cluster with a Synced status.
func druidRole(t *testing.T, ns, name, cluster string) {
	t.Helper()
	ctx := context.Background()
	r := &implyv1alpha1.DruidRole{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: implyv1alpha1.DruidRoleSpec{ClusterRef: implyv1alpha1.LocalObjectReference{Name: cluster}}}
	if err := k8s.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.Status = implyv1alpha1.DruidRoleStatus{RoleName: name, Conditions: []metav1.Condition{
		{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Synced", LastTransitionTime: metav1.Now()},
		{Type: "Synced", Status: metav1.ConditionTrue, Reason: "Synced", LastTransitionTime: metav1.Now()}}}
	if err := k8s.Status().Update(ctx, r); err != nil {
		t.Fatal(err)
	}
}

// cluster is a valid TLS cluster with auth in ns, with a Saturday maintenance window.
func cluster(name, ns string, opts ...testobj.ClusterOption) *implyv1alpha1.ImplyCluster {
	c := testobj.ImplyCluster(name, ns, append([]testobj.ClusterOption{testobj.WithAuth("", "")}, opts...)...)
	c.Spec.Rollout = &implyv1alpha1.RolloutSpec{MaintenanceWindows: []implyv1alpha1.MaintenanceWindow{
		{Schedule: "0 2 * * SAT", Duration: metav1.Duration{Duration: 4 * time.Hour}}}}
	return c
}
