package implycluster

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/pkg/pki"
	"github.com/imply-operator/imply-operator/pkg/specs"
	"github.com/imply-operator/imply-operator/test/testobj"
)

// caSecretReader is the apiserver as a restarted operator finds it after a crash: holding only
// the CA Secret last written (nil: none yet).
type caSecretReader struct{ secret *corev1.Secret }

func (r caSecretReader) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	if r.secret == nil || key.Name != r.secret.Name {
		return apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, key.Name)
	}
	r.secret.DeepCopyInto(obj.(*corev1.Secret))
	return nil
}

func (caSecretReader) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return nil
}

// TestCARotationSurvivesACrashAfterEveryWrite (issue 19): an operator killed after any write of
// a CA rotation, and started again on what that write left, carries on with the same rotation
// (the same next CA, the next phase), and the CA Secret never says "done" (no phase, the
// rotate-ca value recorded) while the cluster still signs with the old CA. Every step is one
// write of the CA Secret holding the phase and the answered rotate-ca value together.
func TestCARotationSurvivesACrashAfterEveryWrite(t *testing.T) {
	ctx := context.Background()
	r := &Reconciler{Recorder: noEvents{}, Clock: clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	c := testobj.ImplyCluster("c", "ns")
	c.Spec.Security = &implyv1alpha1.SecuritySpec{TLS: &implyv1alpha1.TLSSpec{Enabled: true, CA: &implyv1alpha1.CASpec{Generate: &implyv1alpha1.GeneratedCASpec{}}}}
	restart := func(written *corev1.Secret) *caState {
		t.Helper()
		r.APIReader = caSecretReader{secret: written}
		state, problem, err := r.generatedCA(ctx, c)
		if err != nil || problem != nil {
			t.Fatalf("reading the CA Secret back: %v %v", err, problem)
		}
		return state
	}
	first := restart(nil)
	oldCA := first.Signer.Certificate
	written := first.Secret.DeepCopy()

	c.Annotations = map[string]string{implyv1alpha1.AnnotationRotateCA: "v"}
	start := restart(written)
	if start.Phase != caPhaseTrustBoth {
		t.Fatalf("rotate-ca did not start a rotation: phase %q", start.Phase)
	}
	next, err := pki.ParseKeyPair(start.Secret.Data[keyNextCACert], start.Secret.Data[keyNextCAKey])
	if err != nil {
		t.Fatal(err)
	}
	written = start.Secret.DeepCopy() // write 1: phase and rotate-ca value in one object
	for _, want := range []string{caPhaseTrustBoth, caPhaseSignWithNew, caPhaseDropOld, ""} {
		state := restart(written)
		again := restart(written)
		if state.Phase != want || again.Phase != want {
			t.Fatalf("after a crash the operator reads phase %q (then %q), want %q", state.Phase, again.Phase, want)
		}
		if string(state.Secret.Data[keyNextCACert]) != string(again.Secret.Data[keyNextCACert]) {
			t.Fatalf("phase %q: a restart generated another next CA", want)
		}
		requested := state.Secret.Annotations[implyv1alpha1.AnnotationCARotationRequested]
		if state.Phase == "" && requested == "v" && !state.Signer.Certificate.Equal(next.Certificate) {
			t.Fatalf("the CA Secret records rotation %q as done while the old CA (serial %s) still signs", requested, oldCA.SerialNumber)
		}
		if want == "" {
			break
		}
		if !advanceRotation(state) {
			t.Fatalf("phase %q did not advance", want)
		}
		written = state.Secret.DeepCopy()
	}
	final := restart(written)
	if !final.Signer.Certificate.Equal(next.Certificate) || len(final.Trusted) != 1 {
		t.Fatalf("the rotation ended signing with serial %s trusting %d CAs, want the next CA alone", final.Signer.Certificate.SerialNumber, len(final.Trusted))
	}
	if _, kept := final.Secret.Data[keyPreviousCACert]; kept {
		t.Fatal("the old CA is still kept after the rotation")
	}
	if specs.CASecretName(c.Name) != final.Secret.Name {
		t.Fatalf("wrote %s", final.Secret.Name)
	}
}
