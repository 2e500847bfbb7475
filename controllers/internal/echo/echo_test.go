package echo

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/event"
)

func configMap(name, rv string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, ResourceVersion: rv}}
}

// world is a fake apiserver behind a Creates client; beforeAnswer runs while a create is in
// flight, after the apiserver stored the object (when the watch may already deliver its event).
func world(t *testing.T, beforeAnswer func(obj client.Object)) (*Creates, client.Client, *clocktesting.FakeClock) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	store := fake.NewClientBuilder().WithScheme(scheme).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if err := c.Create(ctx, obj, opts...); err != nil {
				return err
			}
			if beforeAnswer != nil {
				beforeAnswer(obj)
			}
			return nil
		}}).Build()
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	creates := NewCreates(clk)
	return creates, creates.Client(store), clk
}

func createEvent(obj client.Object) event.CreateEvent { return event.CreateEvent{Object: obj} }

func TestTheEchoOfACreateIsSkippedOnce(t *testing.T) {
	creates, c, _ := world(t, nil)
	cm := configMap("a", "")
	if err := c.Create(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
	p := creates.SkipEchoes()
	echo := cm.DeepCopy()
	if p.Create(createEvent(echo)) {
		t.Error("the create event at the version the create returned was not skipped")
	}
	if !p.Create(createEvent(echo)) {
		t.Error("a second create event of that version was skipped: the echo comes once")
	}
	if creates.Len() != 0 {
		t.Errorf("%d creates remembered after their echo", creates.Len())
	}
}

func TestAnEchoArrivingWhileTheCreateIsInFlightIsSkipped(t *testing.T) {
	var creates *Creates
	var skipped bool
	creates, c, _ := world(t, func(obj client.Object) {
		skipped = !creates.SkipEchoes().Create(createEvent(obj.DeepCopyObject().(client.Object)))
	})
	cm := configMap("a", "")
	if err := c.Create(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
	if !skipped {
		t.Error("the create event delivered before the create's answer was not skipped")
	}
	if creates.Len() != 0 {
		t.Errorf("a create whose echo came in flight is still remembered (%d)", creates.Len())
	}
	if !creates.SkipEchoes().Create(createEvent(cm)) {
		t.Error("a second create event of the object was skipped")
	}
}

func TestOthersEventsPass(t *testing.T) {
	creates, c, _ := world(t, nil)
	cm := configMap("a", "")
	if err := c.Create(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
	p := creates.SkipEchoes()
	for _, obj := range []client.Object{
		configMap("a", cm.ResourceVersion+"1"),    // a newer version of it (recreated by someone)
		configMap("b", cm.ResourceVersion),        // another object
		&corev1.Secret{ObjectMeta: cm.ObjectMeta}, // another kind of the name
	} {
		if !p.Create(createEvent(obj)) {
			t.Errorf("the create event of %T %s at %s was skipped", obj, obj.GetName(), obj.GetResourceVersion())
		}
	}
	if !p.Update(event.UpdateEvent{ObjectOld: cm, ObjectNew: cm}) || !p.Delete(event.DeleteEvent{Object: cm}) {
		t.Error("updates and deletes must pass")
	}
}

func TestAFailedCreateIsForgotten(t *testing.T) {
	creates, c, _ := world(t, nil)
	if err := c.Create(context.Background(), configMap("a", "")); err != nil {
		t.Fatal(err)
	}
	creates.IsEcho(configMap("a", "")) // not consumed: other version
	again := configMap("a", "")
	if err := c.Create(context.Background(), again); err == nil {
		t.Fatal("a second create of the name succeeded")
	}
	if !creates.SkipEchoes().Create(createEvent(configMap("a", "999"))) {
		t.Error("an event after a failed create was skipped")
	}
	if creates.Len() != 1 {
		t.Errorf("want only the first create remembered, got %d", creates.Len())
	}
}

func TestAMissedEchoIsForgottenAfterTTL(t *testing.T) {
	creates, c, clk := world(t, nil)
	if err := c.Create(context.Background(), configMap("a", "")); err != nil {
		t.Fatal(err)
	}
	clk.Step(TTL)
	if err := c.Create(context.Background(), configMap("b", "")); err != nil {
		t.Fatal(err)
	}
	if creates.Len() != 1 {
		t.Errorf("a create whose echo never came is still remembered after %s (%d)", TTL, creates.Len())
	}
}

func TestDryRunsAndGeneratedNamesAreNotRemembered(t *testing.T) {
	creates, c, _ := world(t, nil)
	_ = c.Create(context.Background(), configMap("a", ""), client.DryRunAll)
	_ = c.Create(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", GenerateName: "g-"}})
	if creates.Len() != 0 {
		t.Errorf("a dry run or a generated name was remembered (%d)", creates.Len())
	}
}
