package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/druid/fakecoordinator"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testenv"
)

// targetReactionP99 is the most a token Secret change may take to reach a StatefulSet at scale.
const targetReactionP99 = time.Second

// reactionResult is (g): the operator's reactions over many converged Ready clusters.
type reactionResult struct {
	Clusters int `json:"clusters"`
	// SecretToPatch is a user token Secret updated -> the first StatefulSet of its namespace
	// with a new generation, one namespace at a time.
	SecretToPatch summary `json:"secretToPatch"`
	// DruidRoles is how many DruidRoles (one per namespace, of its cluster c0) talk to the
	// fake coordinators (one per namespace, logging every request).
	DruidRoles int `json:"druidRoles"`
	// ResyncWrites are the writes of a restarted operator over the unchanged clusters.
	ResyncWrites     map[string]int `json:"resyncWrites"`
	ResyncReconciles float64        `json:"resyncReconciles"`
	ResyncDuration   time.Duration  `json:"resyncNanoseconds"`
	// DruidRequests are the requests the restarted operator made to Druid, by "METHOD path".
	DruidRequests map[string]int `json:"druidRequests"`
}

// runReaction measures, on the converged clusters of s: token Secret changes reaching a
// StatefulSet (changes runs, each in another namespace), then what a restarted operator writes
// and asks Druid while it reconciles every unchanged cluster again.
func runReaction(ctx context.Context, e env, s *scaleState, changes int) (reactionResult, error) {
	res := reactionResult{Clusters: len(s.keys)}
	n := len(s.keys)
	if err := markAllReady(ctx, e, s); err != nil {
		return res, err
	}
	e.log("  (g) %d clusters Ready", n)
	var patches []time.Duration
	for i := 0; i < changes; i++ {
		ns := s.namespaces[(i*7)%len(s.namespaces)]
		if _, err := s.op.waitQuiet(ctx, 0, 500*time.Millisecond, 5*time.Minute); err != nil {
			return res, err
		}
		var secret corev1.Secret
		if err := s.cp.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: tokenSecretName}, &secret); err != nil {
			return res, err
		}
		secret.StringData = map[string]string{tokenSecretKey: fmt.Sprintf("bench-agent-token-reaction-%04d-0000000", i)}
		if err := s.tr.arm(ctx, ns); err != nil {
			return res, err
		}
		start := time.Now()
		if err := s.cp.c.Update(ctx, &secret); err != nil {
			return res, err
		}
		at, err := s.tr.waitPatched(ctx, ns, time.Minute)
		if err != nil {
			return res, err
		}
		patches = append(patches, at.Sub(start))
		e.log("    token Secret -> StatefulSet patch %2d (%s): %s", i+1, ns, at.Sub(start).Round(time.Millisecond))
	}
	res.SecretToPatch = summarize(patches)

	fakes, err := pointAtDruid(ctx, e, s)
	if err != nil {
		return res, err
	}
	defer fakes.close()
	res.DruidRoles = len(s.namespaces)
	if err := markAllReady(ctx, e, s); err != nil {
		return res, err
	}
	if _, err := s.op.waitQuiet(ctx, 0, 2*time.Second, 30*time.Minute); err != nil {
		return res, err
	}
	if err := s.op.stop(); err != nil {
		return res, err
	}
	mark, err := auditSize(s.cp.auditLog)
	if err != nil {
		return res, err
	}
	fakes.resetLogs()
	e.log("  (g) %d DruidRoles Ready; restarting the operator", res.DruidRoles)
	start := time.Now()
	op, err := startOperator(ctx, e.binary, s.cp.kubeconfig, filepath.Join(s.dir, "operator-restarted.log"), false, e.operatorArgs...)
	if err != nil {
		return res, err
	}
	defer func() { _ = op.stop() }()
	quiet := 3 * time.Second
	if res.ResyncReconciles, err = op.waitQuiet(ctx, n, quiet, 30*time.Minute); err != nil {
		return res, err
	}
	res.ResyncDuration = time.Since(start) - quiet
	if res.ResyncWrites, err = operatorWrites(s.cp.auditLog, mark); err != nil {
		return res, err
	}
	res.DruidRequests = fakes.counts()
	e.log("  (g) restart: %d writes (%s), %d Druid requests (%s)", total(res.ResyncWrites), describeCounts(res.ResyncWrites),
		total(res.DruidRequests), describeCounts(res.DruidRequests))
	return res, op.stop()
}

// markAllReady marks the workloads of every cluster of s ready (as the StatefulSet controller and
// kubelet would) and waits until the operator has seen it and is quiet.
func markAllReady(ctx context.Context, e env, s *scaleState) error {
	if err := runParallel(len(s.keys), e.workers, func(i int) error {
		return testenv.MarkWorkloadsReady(ctx, s.cp.c, s.keys[i].Namespace, s.keys[i].Name)
	}); err != nil {
		return err
	}
	if _, err := s.tr.waitReady(ctx, s.keys, 30*time.Minute); err != nil {
		return err
	}
	_, err := s.op.waitQuiet(ctx, 0, 2*time.Second, 30*time.Minute)
	return err
}

// benchRoleName is the DruidRole of each namespace.
const benchRoleName = "readers"

// druidFakes are fake coordinators, one per namespace, standing in for the coordinator of its
// cluster c0: https with a leaf for localhost signed by that cluster's CA, and the admin password
// the operator generated for it. Each logs the requests it gets.
type druidFakes []*fakecoordinator.Server

// pointAtDruid starts a fake coordinator for cluster c0 of every namespace, sets the cluster's
// spec.druid.apiURL to it and creates a DruidRole of it, then waits until every role is Ready
// (synced with Druid).
func pointAtDruid(ctx context.Context, e env, s *scaleState) (druidFakes, error) {
	fakes := make(druidFakes, len(s.namespaces))
	err := runParallel(len(s.namespaces), e.workers, func(i int) error {
		ns := s.namespaces[i]
		fake, err := startFakeCoordinator(ctx, s.cp.c, ns, "c0")
		if err != nil {
			return err
		}
		fakes[i] = fake
		var c implyv1alpha1.ImplyCluster
		if err := s.cp.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "c0"}, &c); err != nil {
			return err
		}
		patch := client.MergeFrom(c.DeepCopy())
		c.Spec.Druid.APIURL = "https://localhost:" + fake.URL[strings.LastIndex(fake.URL, ":")+1:]
		if err := s.cp.c.Patch(ctx, &c, patch); err != nil {
			return err
		}
		return s.cp.c.Create(ctx, &implyv1alpha1.DruidRole{
			ObjectMeta: metav1.ObjectMeta{Name: benchRoleName, Namespace: ns},
			Spec: implyv1alpha1.DruidRoleSpec{
				ClusterRef: implyv1alpha1.LocalObjectReference{Name: "c0"},
				Permissions: []implyv1alpha1.DruidPermission{{
					Resource: implyv1alpha1.DruidResource{Type: "DATASOURCE", Name: "wikipedia"}, Action: implyv1alpha1.DruidActionRead,
				}},
			},
		})
	})
	if err != nil {
		fakes.close()
		return nil, err
	}
	err = poll(ctx, 200*time.Millisecond, 10*time.Minute, "the DruidRoles to be Ready", func() (bool, error) {
		var roles implyv1alpha1.DruidRoleList
		if err := s.cp.c.List(ctx, &roles); err != nil {
			return false, err
		}
		ready := 0
		for i := range roles.Items {
			if meta.IsStatusConditionTrue(roles.Items[i].Status.Conditions, implyv1alpha1.ConditionReady) {
				ready++
			}
		}
		return ready == len(s.namespaces), nil
	})
	if err != nil {
		fakes.close()
		return nil, err
	}
	return fakes, nil
}

// startFakeCoordinator starts a fake coordinator that cluster name of ns trusts and logs into.
func startFakeCoordinator(ctx context.Context, c client.Client, ns, name string) (*fakecoordinator.Server, error) {
	var caSecret, credentials corev1.Secret
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: specs.CASecretName(name)}, &caSecret); err != nil {
		return nil, err
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: specs.DruidCredentialsName(name)}, &credentials); err != nil {
		return nil, err
	}
	ca, err := pki.ParseKeyPair(caSecret.Data[specs.CACertKey], caSecret.Data[specs.CAPrivateKeyKey])
	if err != nil {
		return nil, fmt.Errorf("while reading the CA of %s/%s: %w", ns, name, err)
	}
	leaf, err := ca.SignLeaf(clock.RealClock{}, pki.LeafRequest{CommonName: "localhost", DNSNames: []string{"localhost"}, Validity: time.Hour})
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
	if err != nil {
		return nil, err
	}
	return fakecoordinator.New(fakecoordinator.Options{
		AdminPassword: string(credentials.Data[specs.DruidAdminPasswordKey]), CredentialIterations: 100,
		TLS: true, Certificate: &cert,
	}), nil
}

// resetLogs forgets the requests logged so far.
func (f druidFakes) resetLogs() {
	for _, s := range f {
		s.ResetLog()
	}
}

// counts are the requests logged since the last reset, by "METHOD path" with the role's name
// as {role}.
func (f druidFakes) counts() map[string]int {
	out := map[string]int{}
	for _, s := range f {
		for _, r := range s.Requests() {
			out[r.Method+" "+strings.ReplaceAll(r.Path, "/"+benchRoleName, "/{role}")]++
		}
	}
	return out
}

func (f druidFakes) close() {
	for _, s := range f {
		if s != nil {
			s.Close()
		}
	}
}
