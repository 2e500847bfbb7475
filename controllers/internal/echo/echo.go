// Package echo tells the watch event of an object a reconciler created itself, its echo, from
// everyone else's events. A reconcile that creates a cluster's 36 objects hears 36 create events
// about them moments later; each would queue the cluster again for a reconcile that finds
// everything as it was just written (at 1,000 clusters, half the reconciles of a first start and
// six reads a cluster; docs/performance.md, step 26). Creates remembers each create of its
// client, and its predicate drops the one create event that is the create's echo: the event of
// the object while its create is in flight (the watch often delivers it before the create's
// answer is read), or the event carrying exactly the version the create returned. Any later
// change to the object, by anyone, has another version and passes, as do updates, deletes, the
// informers' initial lists and events of objects this process did not create. Should another
// client create the object while this one's create is in flight, this one's fails with
// AlreadyExists, and the reconcile that made it reads the object and deals with it then.
package echo

import (
	"context"
	"reflect"
	"sync"
	"time"

	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
)

// TTL is how long a create is remembered when its echo does not come (the informer relisted and
// saw a newer version instead, or its event arrived before the create's answer): the memory of a
// missed echo is bounded, and a reconcile it would have queued is never lost, only not skipped.
const TTL = 5 * time.Minute

// Creates remembers the creates made through its client until their echo.
type Creates struct {
	clock clock.PassiveClock
	mu    sync.Mutex
	// inFlight are the objects being created; echoed says their create event came meanwhile.
	inFlight map[name]*flight
	// versions are the created objects whose echo has not come, at the version their create
	// returned, with when.
	versions  map[version]time.Time
	lastPurge time.Time
}

// name is an object of a kind.
type name struct {
	kind            reflect.Type
	namespace, name string
}

// version is an object at one resourceVersion.
type version struct {
	name
	resourceVersion string
}

type flight struct{ echoed bool }

// NewCreates is an empty memory of creates on clk.
func NewCreates(clk clock.PassiveClock) *Creates {
	return &Creates{clock: clk, inFlight: map[name]*flight{}, versions: map[version]time.Time{}, lastPurge: clk.Now()}
}

func nameOf(obj client.Object) name {
	return name{kind: reflect.TypeOf(obj), namespace: obj.GetNamespace(), name: obj.GetName()}
}

func versionOf(obj client.Object) version {
	return version{name: nameOf(obj), resourceVersion: obj.GetResourceVersion()}
}

// starting marks obj's create as in flight.
func (c *Creates) starting(obj client.Object) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inFlight[nameOf(obj)] = &flight{}
}

// done ends obj's create; created says it succeeded, and obj then holds the version the
// apiserver returned, remembered unless its echo already came.
func (c *Creates) done(obj client.Object, created bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := nameOf(obj)
	f := c.inFlight[n]
	delete(c.inFlight, n)
	if !created || (f != nil && f.echoed) || obj.GetResourceVersion() == "" {
		return
	}
	now := c.clock.Now()
	if now.Sub(c.lastPurge) >= TTL {
		for v, at := range c.versions {
			if now.Sub(at) >= TTL {
				delete(c.versions, v)
			}
		}
		c.lastPurge = now
	}
	c.versions[versionOf(obj)] = now
}

// IsEcho says whether a create event of obj is the echo of a create through c's client: the
// create is in flight, or returned obj's version. The echo comes once: it is forgotten.
func (c *Creates) IsEcho(obj client.Object) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.inFlight[nameOf(obj)]; ok && !f.echoed {
		f.echoed = true
		return true
	}
	v := versionOf(obj)
	if _, ok := c.versions[v]; !ok {
		return false
	}
	delete(c.versions, v)
	return true
}

// Len is how many creates are in flight or wait for their echo.
func (c *Creates) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.inFlight) + len(c.versions)
}

// Client is cl whose creates are remembered.
func (c *Creates) Client(cl client.Client) client.Client {
	return recordingClient{Client: cl, creates: c}
}

// recordingClient is the client Creates.Client returns.
type recordingClient struct {
	client.Client
	creates *Creates
}

// Create creates obj, remembering the create from before it is sent until its echo.
func (r recordingClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	if obj.GetName() == "" || isDryRun(opts) {
		return r.Client.Create(ctx, obj, opts...)
	}
	r.creates.starting(obj)
	err := r.Client.Create(ctx, obj, opts...)
	r.creates.done(obj, err == nil)
	return err
}

func isDryRun(opts []client.CreateOption) bool {
	o := &client.CreateOptions{}
	o.ApplyOptions(opts)
	return len(o.DryRun) > 0
}

// SkipEchoes is a predicate that drops the create events that are echoes of c's creates.
func (c *Creates) SkipEchoes() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc: func(e event.CreateEvent) bool { return e.Object == nil || !c.IsEcho(e.Object) },
	}
}
