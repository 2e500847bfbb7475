package cache

import (
	"crypto/sha256"
	"reflect"
	"sort"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/imply-operator/imply-operator/pkg/specs"
)

// internLimit is how many distinct strings (and, apart, label sets) a pool holds before it
// starts over. Values that come and go (names of deleted clusters, old revisions) therefore
// cannot grow it without bound; what is already shared stays shared.
const internLimit = 1 << 16

// internPool makes cached objects share one copy of the strings and label sets they have in
// common: every decoded object otherwise holds its own copy of each label, owner reference and
// pod-template string, and at 1,000 clusters those copies were a fifth of the heap (see
// docs/performance.md).
//
// Sharing is safe because the cache never hands out what it stores: reads return deep copies,
// and event handlers and predicates only read the object they are given.
type internPool struct {
	mu      sync.Mutex
	strings map[string]string
	sets    map[string]map[string]string
	bundles map[[sha256.Size]byte][]byte
	owners  map[string][]metav1.OwnerReference
}

// newInternPool returns an empty pool.
func newInternPool() *internPool {
	return &internPool{
		strings: map[string]string{}, sets: map[string]map[string]string{},
		bundles: map[[sha256.Size]byte][]byte{}, owners: map[string][]metav1.OwnerReference{},
	}
}

// bundle returns the pool's copy of a CA bundle equal to b. A cluster's bundle is in its CA
// Secret, in every leaf Secret and in its bundle ConfigMap.
func (p *internPool) bundle(b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	id := sha256.Sum256(b)
	p.mu.Lock()
	defer p.mu.Unlock()
	if shared, ok := p.bundles[id]; ok {
		return shared
	}
	if len(p.bundles) >= internLimit {
		p.bundles = map[[sha256.Size]byte][]byte{}
	}
	p.bundles[id] = b
	return b
}

// str returns the pool's copy of s.
func (p *internPool) str(s string) string {
	if s == "" {
		return s
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if shared, ok := p.strings[s]; ok {
		return shared
	}
	if len(p.strings) >= internLimit {
		p.strings = map[string]string{}
	}
	p.strings[s] = s
	return s
}

// set returns the pool's copy of a label set (or selector) equal to m.
func (p *internPool) set(m map[string]string) map[string]string {
	if len(m) == 0 {
		return m
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(m[k])
		b.WriteByte(0)
	}
	id := b.String()
	p.mu.Lock()
	if shared, ok := p.sets[id]; ok {
		p.mu.Unlock()
		return shared
	}
	p.mu.Unlock()
	shared := make(map[string]string, len(m))
	for k, v := range m {
		shared[p.str(k)] = p.str(v)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.sets) >= internLimit {
		p.sets = map[string]map[string]string{}
	}
	p.sets[id] = shared
	return shared
}

// transform shares what obj has in common with other cached objects: the labels, annotation
// keys, namespace and owner references of every object, the data keys of Secrets and
// ConfigMaps, the specs of Services, workloads and PodDisruptionBudgets, pod templates included,
// and CA bundles (ca.crt). Fields unique to one object or one version of it (uid,
// resourceVersion, cluster IPs, status, annotation values, other data) are left alone.
func (p *internPool) transform(obj any) (any, error) {
	if o, ok := obj.(metav1.Object); ok {
		p.meta(o)
	}
	switch o := obj.(type) {
	case *corev1.Secret:
		shareKeys(p, o.Data)
		if ca, ok := o.Data[specs.TLSCAKey]; ok {
			o.Data[specs.TLSCAKey] = p.bundle(ca)
		}
	case *corev1.ConfigMap:
		shareKeys(p, o.Data)
		if ca, ok := o.Data[specs.TLSCAKey]; ok {
			o.Data[specs.TLSCAKey] = p.str(ca)
		}
	case *corev1.Service:
		p.walk(reflect.ValueOf(&o.Spec).Elem())
	case *appsv1.StatefulSet:
		p.walk(reflect.ValueOf(&o.Spec).Elem())
	case *appsv1.Deployment:
		p.walk(reflect.ValueOf(&o.Spec).Elem())
	case *policyv1.PodDisruptionBudget:
		p.walk(reflect.ValueOf(&o.Spec).Elem())
	}
	return obj, nil
}

// sharedTrue and sharedFalse are the values of every owner reference's controller and
// blockOwnerDeletion flags.
var sharedTrue, sharedFalse = true, false

// meta shares an object's namespace, labels, annotation keys and owner references.
func (p *internPool) meta(o metav1.Object) {
	o.SetNamespace(p.str(o.GetNamespace()))
	o.SetLabels(p.set(o.GetLabels()))
	shareKeys(p, o.GetAnnotations())
	if refs := o.GetOwnerReferences(); len(refs) > 0 {
		o.SetOwnerReferences(p.ownerRefs(refs))
	}
}

// ownerRefs returns the pool's copy of a list of owner references equal to refs. Every object a
// cluster owns has the same one (the cluster's, with its uid): one slice a cluster instead of
// one, and a uid string, an object.
func (p *internPool) ownerRefs(refs []metav1.OwnerReference) []metav1.OwnerReference {
	var b strings.Builder
	for _, r := range refs {
		for _, f := range []string{r.APIVersion, r.Kind, r.Name, string(r.UID), flag(r.Controller), flag(r.BlockOwnerDeletion)} {
			b.WriteString(f)
			b.WriteByte(0)
		}
	}
	id := b.String()
	p.mu.Lock()
	shared, ok := p.owners[id]
	p.mu.Unlock()
	if ok {
		return shared
	}
	for i := range refs {
		refs[i].APIVersion, refs[i].Kind, refs[i].Name = p.str(refs[i].APIVersion), p.str(refs[i].Kind), p.str(refs[i].Name)
		refs[i].Controller, refs[i].BlockOwnerDeletion = sharedBool(refs[i].Controller), sharedBool(refs[i].BlockOwnerDeletion)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.owners) >= internLimit {
		p.owners = map[string][]metav1.OwnerReference{}
	}
	p.owners[id] = refs
	return refs
}

// flag spells an optional owner reference flag for ownerRefs' key.
func flag(b *bool) string {
	switch {
	case b == nil:
		return "-"
	case *b:
		return "t"
	default:
		return "f"
	}
}

// shareKeys makes the keys of m the pool's copies, in place: assigning to a key a map already
// holds stores the given key's string. Keys (annotation names, data keys) repeat on every object
// of a kind; values are left alone, as most belong to one object.
func shareKeys[V any](p *internPool, m map[string]V) {
	for k, v := range m {
		m[p.str(k)] = v
	}
}

// sharedBool returns a shared pointer with b's value.
func sharedBool(b *bool) *bool {
	switch {
	case b == nil:
		return nil
	case *b:
		return &sharedTrue
	default:
		return &sharedFalse
	}
}

// highCardinality are the fields walk leaves alone: each value belongs to one object.
var highCardinality = map[string]bool{"ClusterIP": true, "ClusterIPs": true, "UID": true, "ResourceVersion": true}

// walk shares every string and string map reachable from v (a spec), but not the values of
// highCardinality fields, and of a pod template's metadata only the labels and annotation keys.
func (p *internPool) walk(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			v.SetString(p.str(v.String()))
		}
	case reflect.Pointer:
		if !v.IsNil() {
			p.walk(v.Elem())
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		for i := 0; i < v.Len(); i++ {
			p.walk(v.Index(i))
		}
	case reflect.Map:
		if m, ok := v.Interface().(map[string]string); ok && v.CanSet() {
			v.Set(reflect.ValueOf(p.set(m)))
		}
	case reflect.Struct:
		t := v.Type()
		if t == reflect.TypeFor[metav1.ObjectMeta]() {
			m := v.Addr().Interface().(*metav1.ObjectMeta)
			m.Labels = p.set(m.Labels)
			shareKeys(p, m.Annotations)
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if f := t.Field(i); f.IsExported() && !highCardinality[f.Name] {
				p.walk(v.Field(i))
			}
		}
	}
}
