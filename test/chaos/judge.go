package chaos

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// annotationInternalClientUser names the internal user the credentials Secret is for.
const annotationInternalClientUser = "imply.operator.dev/internal-client-user"

// mayChange says whether Secret name may get new values in stage: the CA, the manager's copy of
// the signing CA and every TLS Secret in the CA rotation, the TLS Secrets in the renewal, the Druid credentials in the password
// rotation, the token's Secret in the token rotation; nothing else, ever.
func mayChange(stage, name string) bool {
	tlsSecret := strings.HasSuffix(name, "-tls")
	switch stage {
	case StageCA:
		return name == specs.CASecretName(clusterName) || name == specs.ManagerSigningCAName(clusterName) || tlsSecret
	case StageRenewal:
		return tlsSecret
	case StagePasswords:
		return name == specs.DruidCredentialsName(clusterName)
	case StageToken:
		return name == specs.AuthTokenSecretName(tokenName)
	}
	return false
}

// judgeSecret judges one new Secret version: no Secret is deleted, no user Secret changes, and
// an operator Secret gets new values only in the stage that rotates it.
func (cp *Campaign) judgeSecret(name string, prev, cur *SecretVersion) {
	stage := cur.Stage
	if stage == StageBaseline {
		return
	}
	if _, user := cp.userRVs[name]; user {
		cp.journal.Violation("user-"+name+fmt.Sprint(cur.RV), "user Secret %s was written (rv %d) in %s", name, cur.RV, stage)
		return
	}
	if cur.Deleted {
		cp.journal.Violation("deleted-"+name, "Secret %s was deleted in %s", name, stage)
		return
	}
	if prev == nil {
		if !mayChange(stage, name) {
			cp.journal.Violation("created-"+name, "Secret %s was created in %s", name, stage)
		}
		return
	}
	if !maps.EqualFunc(prev.Data, cur.Data, func(a, b []byte) bool { return string(a) == string(b) }) && !mayChange(stage, name) {
		var keys []string
		for k := range cur.Data {
			if string(prev.Data[k]) != string(cur.Data[k]) {
				keys = append(keys, k)
			}
		}
		for k := range prev.Data {
			if _, ok := cur.Data[k]; !ok {
				keys = append(keys, k+" (removed)")
			}
		}
		slices.Sort(keys)
		cp.journal.Violation(fmt.Sprintf("changed-%s-%d", name, cur.RV), "Secret %s got new values in %s, which does not rotate it: keys %v", name, stage, keys)
	}
}

// judgeRolls checks a stage's pod history: each pod replaced as often as the stage needs (no
// double restart), groups disrupted one at a time in Druid's order, starting with data.
func (cp *Campaign) judgeRolls(stage string, sr StageReport) {
	want := expectedRolls[stage]
	for _, key := range []string{"c-data-0", "c-data-1", "c-query-0", "c-master-0", specs.ComponentManager} {
		n := sr.RestartsByPod[key]
		if n < want[0] || n > want[1] {
			cp.journal.Violation("rolls-"+stage+key, "%s ran %d new revisions in %s, want %d to %d: %s", key, n, stage, want[0], want[1],
				strings.Join(cp.rec.RollDetails(stage, key), "; "))
		}
	}
	seq := sr.Sequence
	if len(seq) == 0 || seq[0] != druidOrder[0] {
		cp.journal.Violation("order-start-"+stage, "%s disrupted groups %v: it must start with data", stage, seq)
		return
	}
	for i := 1; i < len(seq); i++ {
		prev := slices.Index(druidOrder, seq[i-1])
		if seq[i] != druidOrder[(prev+1)%len(druidOrder)] {
			cp.journal.Violation("order-"+stage, "%s disrupted groups %v: %s came after %s, not in Druid's order", stage, seq, seq[i], seq[i-1])
			return
		}
	}
	if len(seq)%len(druidOrder) != 0 || len(seq)/len(druidOrder) < want[0] || len(seq)/len(druidOrder) > want[1] {
		cp.journal.Violation("order-len-"+stage, "%s disrupted groups %v: not %d to %d whole rounds", stage, seq, want[0], want[1])
	}
}

// mountedKeys are the keys whose values a pod runs with (the PKCS#12 files derive from them).
func mountedKeys(data map[string][]byte) map[string]string {
	out := map[string]string{}
	for k, v := range data {
		if !strings.HasSuffix(k, ".p12") {
			out[k] = string(v)
		}
	}
	return out
}

// judgeMounted checks, once a stage has converged, that every running pod runs the current
// values of every operator Secret it mounts: a pod left on old material is a missed restart.
func (cp *Campaign) judgeMounted(ctx context.Context, stage string) {
	stale, err := cp.staleMounts(ctx)
	if err != nil {
		cp.journal.Add(KindNote, "listing pods: %v", err)
		return
	}
	for _, m := range stale {
		cp.journal.Violation("stale-"+stage+m.pod+m.secret, "after %s converged, pod %s runs Secret %s as it was before its last change", stage, m.pod, m.secret)
	}
}

// staleMount is a running pod that mounts an operator Secret as it was before its last change.
type staleMount struct{ pod, secret string }

// staleMounts lists the running pods that mount an operator Secret (not the user's) as it was
// before its last change, by the keys they run with.
func (cp *Campaign) staleMounts(ctx context.Context) ([]staleMount, error) {
	var pods corev1.PodList
	if err := cp.c.List(ctx, &pods, client.InNamespace(cp.ns)); err != nil {
		return nil, err
	}
	var stale []staleMount
	for i := range pods.Items {
		pod := &pods.Items[i]
		rec := cp.rec.Pod(pod.UID)
		if rec == nil || pod.Status.Phase != corev1.PodRunning {
			continue
		}
		for _, name := range rec.Secrets {
			if _, user := cp.userRVs[name]; user {
				continue
			}
			mounted, latest := cp.rec.VersionAt(name, rec.CreatedRV), cp.rec.Latest(name)
			if mounted == nil || latest == nil || !maps.Equal(mountedKeys(mounted.Data), mountedKeys(latest.Data)) {
				stale = append(stale, staleMount{pod: pod.Name, secret: name})
			}
		}
	}
	return stale, nil
}

// judgePasswords checks that the coordinator holds the passwords the running pods mount: the
// admin password, and the internal-client password under the user the Secret names.
func (cp *Campaign) judgePasswords(ctx context.Context, stage string) {
	name := specs.DruidCredentialsName(clusterName)
	var pods corev1.PodList
	if err := cp.c.List(ctx, &pods, client.InNamespace(cp.ns)); err != nil {
		return
	}
	checked := 0
	for i := range pods.Items {
		rec := cp.rec.Pod(pods.Items[i].UID)
		if rec == nil || !slices.Contains(rec.Secrets, name) {
			continue
		}
		v := cp.rec.VersionAt(name, rec.CreatedRV)
		if v == nil {
			continue
		}
		checked++
		user := v.Annotations[annotationInternalClientUser]
		if user == "" {
			user = "druid_system"
		}
		if !cp.co.PasswordMatches("admin", string(v.Data[specs.DruidAdminPasswordKey])) {
			cp.journal.Violation("admin-"+stage+rec.Name, "after %s, Druid does not hold the admin password pod %s mounts", stage, rec.Name)
		}
		if !cp.co.PasswordMatches(user, string(v.Data[specs.DruidInternalClientPasswordKey])) {
			cp.journal.Violation("internal-"+stage+rec.Name, "after %s, Druid does not hold the internal-client password of %s that pod %s mounts", stage, user, rec.Name)
		}
	}
	if checked == 0 {
		cp.journal.Violation("passwords-none-"+stage, "after %s, no running pod mounts %s", stage, name)
	}
}

// objectVersions are the resourceVersions of every object the operator writes or reads in ns.
func (cp *Campaign) objectVersions(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	lists := []client.ObjectList{&corev1.SecretList{}, &corev1.ConfigMapList{}, &corev1.ServiceList{}, &appsv1.StatefulSetList{},
		&appsv1.DeploymentList{}, &policyv1.PodDisruptionBudgetList{}, &implyv1alpha1.ImplyClusterList{},
		&implyv1alpha1.AuthTokenList{}, &implyv1alpha1.SecurityPolicyList{}, &implyv1alpha1.DruidRoleList{}}
	for _, l := range lists {
		if err := cp.c.List(ctx, l, client.InNamespace(cp.ns)); err != nil {
			return nil, err
		}
		items, err := meta.ExtractList(l)
		if err != nil {
			return nil, err
		}
		for _, item := range items {
			o := item.(client.Object)
			out[fmt.Sprintf("%T/%s", o, o.GetName())] = o.GetResourceVersion()
		}
	}
	return out, nil
}

// quietRestart restarts the converged operator and checks it writes nothing for QuietPeriod.
func (cp *Campaign) quietRestart(ctx context.Context) {
	cp.journal.SetStage(StageQuiet)
	time.Sleep(3 * time.Second)
	before, err := cp.objectVersions(ctx)
	if err != nil {
		cp.journal.Add(KindNote, "listing objects: %v", err)
		return
	}
	cp.opMu.Lock()
	_ = cp.op.Stop(syscall.SIGKILL)
	err = cp.op.Start()
	cp.opMu.Unlock()
	cp.journal.Add(KindKill, "SIGKILL the converged operator and start it again%s; watching %d objects for %s", errSuffix(err), len(before), cp.cfg.QuietPeriod)
	time.Sleep(cp.cfg.QuietPeriod)
	after, err := cp.objectVersions(ctx)
	if err != nil {
		cp.journal.Add(KindNote, "listing objects: %v", err)
		return
	}
	for k, v := range after {
		if before[k] != v {
			cp.journal.Violation("quiet-"+k, "the restarted operator wrote %s (resourceVersion %s -> %s) although the cluster had converged", k, before[k], v)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			cp.journal.Violation("quiet-gone-"+k, "%s disappeared after the operator restarted", k)
		}
	}
}

// checkUserSecrets checks the user's Secrets kept the resourceVersion they had before the faults.
func (cp *Campaign) checkUserSecrets(ctx context.Context) {
	for name, rv := range cp.userRVs {
		var s corev1.Secret
		if err := cp.c.Get(ctx, client.ObjectKey{Namespace: cp.ns, Name: name}, &s); err != nil {
			cp.journal.Violation("user-gone-"+name, "user Secret %s: %v", name, err)
			continue
		}
		if s.ResourceVersion != rv {
			cp.journal.Violation("user-rv-"+name, "user Secret %s changed (resourceVersion %s -> %s)", name, rv, s.ResourceVersion)
		}
	}
}
