package cache

import (
	"fmt"
	"testing"
	"unsafe"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/imply-operator/imply-operator/pkg/specs"
)

// decodedStatefulSet is a StatefulSet as a decoder makes it: every string its own copy.
func decodedStatefulSet(ns, name string) *appsv1.StatefulSet {
	c := func(s string) string { return string([]byte(s)) }
	labels := func() map[string]string { return specs.Labels(c("c"), c("data"), c("data")) }
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{
			Name: c(name), Namespace: c(ns), UID: types.UID("uid-" + c(ns)), ResourceVersion: c("42"), Labels: labels(),
			Annotations:     map[string]string{c("imply.operator.dev/certificate-not-after"): c("2027-01-01T00:00:00Z")},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: c("imply.operator.dev/v1alpha1"), Kind: c("ImplyCluster"), Name: c("c"), Controller: ptr.To(true)}},
		},
		Spec: appsv1.StatefulSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: specs.SelectorLabels(c("c"), c("data"))},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels(), Annotations: map[string]string{c("imply.operator.dev/tls-revision"): c("abc")}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: c("agent"), Image: c("imply/agent:2025.01"),
					Env: []corev1.EnvVar{{Name: c("DRUID_ADMIN_PASSWORD"), ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
						LocalObjectReference: corev1.LocalObjectReference{Name: c("c-druid-credentials")}, Key: c("admin-password"),
					}}}},
				}}},
			},
		},
		Status: appsv1.StatefulSetStatus{UpdateRevision: c("c-data-5d8f")},
	}
}

// sameBytes says whether two strings share their memory.
func sameBytes(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }

// sameMap says whether two maps are one.
func sameMap(a, b map[string]string) bool {
	return fmt.Sprintf("%p", a) == fmt.Sprintf("%p", b)
}

func TestInternPoolSharesWhatObjectsHaveInCommon(t *testing.T) {
	pool := newInternPool()
	first, second := decodedStatefulSet("ns", "c-data"), decodedStatefulSet("ns", "c-data")
	want := first.DeepCopy()
	for _, s := range []*appsv1.StatefulSet{first, second} {
		if _, err := pool.transform(s); err != nil {
			t.Fatal(err)
		}
	}
	if !equality.Semantic.DeepEqual(first, want) {
		t.Fatalf("transform changed the object's values:\n got %+v\nwant %+v", first, want)
	}
	if !sameMap(first.Labels, second.Labels) || !sameMap(first.Spec.Template.Labels, first.Labels) ||
		!sameMap(first.Spec.Selector.MatchLabels, second.Spec.Selector.MatchLabels) {
		t.Error("equal label sets and selectors are not shared")
	}
	a, b := first.Spec.Template.Spec.Containers[0], second.Spec.Template.Spec.Containers[0]
	for _, pair := range [][2]string{
		{first.Namespace, second.Namespace},
		{first.OwnerReferences[0].APIVersion, second.OwnerReferences[0].APIVersion},
		{a.Image, b.Image}, {a.Env[0].Name, b.Env[0].Name}, {a.Env[0].ValueFrom.SecretKeyRef.Name, b.Env[0].ValueFrom.SecretKeyRef.Name},
	} {
		if !sameBytes(pair[0], pair[1]) {
			t.Errorf("%q is not shared", pair[0])
		}
	}
	if &first.OwnerReferences[0] != &second.OwnerReferences[0] {
		t.Error("equal owner references are not one shared list")
	}
	for _, pair := range [][2]string{
		{first.ResourceVersion, second.ResourceVersion}, {first.Status.UpdateRevision, second.Status.UpdateRevision},
		{first.Spec.Template.Annotations["imply.operator.dev/tls-revision"], second.Spec.Template.Annotations["imply.operator.dev/tls-revision"]},
	} {
		if sameBytes(pair[0], pair[1]) {
			t.Errorf("%q belongs to one object and should not go through the pool", pair[0])
		}
	}
}

func TestInternPoolCopiesOfCachedObjectsAreIndependent(t *testing.T) {
	pool := newInternPool()
	cached, other := decodedStatefulSet("ns", "c-data"), decodedStatefulSet("ns", "c-data")
	for _, s := range []*appsv1.StatefulSet{cached, other} {
		if _, err := pool.transform(s); err != nil {
			t.Fatal(err)
		}
	}
	// What a cache read returns, changed the way a reconciler changes it.
	read := cached.DeepCopy()
	read.Labels["extra"] = "x"
	read.Spec.Template.Labels[specs.LabelNodeGroup] = "changed"
	read.OwnerReferences[0].Name = "changed"
	if _, ok := other.Labels["extra"]; ok || other.Spec.Template.Labels[specs.LabelNodeGroup] != "data" || other.OwnerReferences[0].Name != "c" {
		t.Fatal("changing a deep copy of a cached object changed another cached object")
	}
}

func TestInternPoolStartsOverAtItsLimit(t *testing.T) {
	pool := newInternPool()
	for i := 0; i < internLimit+10; i++ {
		pool.str(fmt.Sprintf("cluster-%d", i))
		pool.set(map[string]string{"cluster": fmt.Sprintf("%d", i)})
	}
	if len(pool.strings) > internLimit || len(pool.sets) > internLimit {
		t.Fatalf("pool holds %d strings and %d sets, limit %d", len(pool.strings), len(pool.sets), internLimit)
	}
	if len(pool.strings) == 0 || len(pool.sets) == 0 {
		t.Fatal("pool forgot what it was given after starting over")
	}
}

func TestInternPoolLeavesClusterIPsAlone(t *testing.T) {
	pool := newInternPool()
	ip := string([]byte("10.96.0.10"))
	svc := &corev1.Service{Spec: corev1.ServiceSpec{ClusterIP: ip, ClusterIPs: []string{ip}, Type: corev1.ServiceTypeClusterIP}}
	if _, err := pool.transform(svc); err != nil {
		t.Fatal(err)
	}
	if _, pooled := pool.strings[ip]; pooled {
		t.Fatal("a cluster IP, unique to one Service, went into the pool")
	}
	if _, pooled := pool.strings[string(corev1.ServiceTypeClusterIP)]; !pooled {
		t.Fatal("the Service type did not go into the pool")
	}
}

func TestInternPoolSharesCABundles(t *testing.T) {
	pool := newInternPool()
	pem := "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	ca := &corev1.Secret{Data: map[string][]byte{"ca.crt": []byte(pem), "tls.key": []byte("key")}}
	leaf := &corev1.Secret{Data: map[string][]byte{"ca.crt": []byte(pem), "tls.key": []byte("key")}}
	for _, s := range []*corev1.Secret{ca, leaf} {
		if _, err := pool.transform(s); err != nil {
			t.Fatal(err)
		}
	}
	if &ca.Data["ca.crt"][0] != &leaf.Data["ca.crt"][0] {
		t.Error("equal CA bundles of two Secrets are not shared")
	}
	if &ca.Data["tls.key"][0] == &leaf.Data["tls.key"][0] {
		t.Error("a private key went through the pool")
	}
	if string(leaf.Data["ca.crt"]) != pem {
		t.Errorf("bundle changed: %q", leaf.Data["ca.crt"])
	}
}

func TestInternPoolSharesAnnotationAndDataKeys(t *testing.T) {
	pool := newInternPool()
	c := func(s string) string { return string([]byte(s)) }
	first, second := decodedStatefulSet("ns", "c-data"), decodedStatefulSet("ns", "c-data")
	secrets := [2]*corev1.Secret{}
	configMaps := [2]*corev1.ConfigMap{}
	for i := range 2 {
		secrets[i] = &corev1.Secret{Data: map[string][]byte{c("tls.crt"): []byte("cert"), c("keystore-password"): []byte("pw")}}
		configMaps[i] = &corev1.ConfigMap{Data: map[string]string{c("common.runtime.properties"): c("x=1")}}
		for _, obj := range []any{[]*appsv1.StatefulSet{first, second}[i], secrets[i], configMaps[i]} {
			if _, err := pool.transform(obj); err != nil {
				t.Fatal(err)
			}
		}
	}
	key := func(m map[string]string) string {
		for k := range m {
			return k
		}
		return ""
	}
	for what, pair := range map[string][2]string{
		"an object's annotation key":      {key(first.Annotations), key(second.Annotations)},
		"a pod template's annotation key": {key(first.Spec.Template.Annotations), key(second.Spec.Template.Annotations)},
		"a ConfigMap's data key":          {key(configMaps[0].Data), key(configMaps[1].Data)},
	} {
		if !sameBytes(pair[0], pair[1]) {
			t.Errorf("%s %q is not shared", what, pair[0])
		}
	}
	for k := range secrets[0].Data {
		if shared, ok := pool.strings[k]; !ok || !sameBytes(shared, k) {
			t.Errorf("the Secret data key %q is not the pool's copy", k)
		}
	}
	if string(secrets[1].Data["keystore-password"]) != "pw" || first.Annotations["imply.operator.dev/certificate-not-after"] != "2027-01-01T00:00:00Z" {
		t.Error("sharing keys changed a value")
	}
}

func TestInternPoolSharesOwnerReferencesOnlyWhenEqual(t *testing.T) {
	pool := newInternPool()
	owned := func(uid string, controller bool) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "imply.operator.dev/v1alpha1", Kind: "ImplyCluster", Name: "c", UID: types.UID(uid), Controller: ptr.To(controller),
		}}}}
	}
	a, b, otherUID, notController := owned("u1", true), owned("u1", true), owned("u2", true), owned("u1", false)
	for _, cm := range []*corev1.ConfigMap{a, b, otherUID, notController} {
		if _, err := pool.transform(cm); err != nil {
			t.Fatal(err)
		}
	}
	if &a.OwnerReferences[0] != &b.OwnerReferences[0] {
		t.Error("equal owner references are not shared")
	}
	if &a.OwnerReferences[0] == &otherUID.OwnerReferences[0] || otherUID.OwnerReferences[0].UID != "u2" {
		t.Error("owner references of another owner (uid) share a list")
	}
	if &a.OwnerReferences[0] == &notController.OwnerReferences[0] || *notController.OwnerReferences[0].Controller {
		t.Error("owner references with another controller flag share a list")
	}
}
