package implycluster

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
	"github.com/imply-operator/imply-operator/controllers/internal/druidconn"
	"github.com/imply-operator/imply-operator/pkg/auth"
	"github.com/imply-operator/imply-operator/pkg/specs"
)

// passwordRotation is one generated password of <cluster>-druid-credentials that rotates: where
// it lives, and how Druid is given the new value before the Secret switches to it.
type passwordRotation struct {
	// what names the password in messages ("admin password").
	what string
	// key is its Secret key; generatedAt and history are the annotations of its age and of the
	// salted hashes of earlier values.
	key, generatedAt, history string
	// pending is a new value generated earlier and not yet confirmed in Druid; empty when none.
	pending string
	// blocked says a rotation may not start now (a previous one is still finishing).
	blocked bool
	// stage durably records a newly generated value before Druid sees it, so a crash between the
	// push and the switch never loses the password Druid has; nil when nothing needs recording.
	stage func(s *corev1.Secret, next string)
	// push gives Druid the new value; an error leaves the rotation pending, as a warning.
	push func(ctx context.Context, next string) error
	// commit makes the other changes of the switch to the new value.
	commit func(s *corev1.Secret)
	// event records the switch: reason and note.
	eventReason string
	eventNote   func(why string) string
}

// rotationOutcome is what rotatePassword did.
type rotationOutcome struct {
	// Value is the password in effect after the call; Rotated says it is a new one.
	Value   string
	Rotated bool
	// NextDue is when the value in effect is due; zero without a lifetime.
	NextDue time.Time
	// Warning says why a due rotation could not finish; empty otherwise.
	Warning string
}

// rotatePassword is the one sequence of every generated cluster password: auth.DecideRotation
// says whether it is due (older than the SecurityPolicy's lifetime, or no longer compliant); a
// new value that is not in the history is generated (or the pending one resumed), staged, pushed
// to Druid, and then made current in one patch with its age and the old value's salted hash
// pushed onto the history. Druid that cannot be reached leaves the rotation pending, reported as
// a warning and retried; nothing is lost.
func (r *Reconciler) rotatePassword(ctx context.Context, c *implyv1alpha1.ImplyCluster, live *corev1.Secret,
	policy *implyv1alpha1.PasswordPolicy, p passwordRotation) (rotationOutcome, error) {
	current := string(live.Data[p.key])
	now := r.Clock.Now()
	in := auth.RotationInput{Usable: true, Violations: auth.CheckPassword(current, policy),
		GeneratedAt: specs.GeneratedAt(live, p.generatedAt), Now: now}
	if policy != nil {
		in.Lifetime = policy.Lifetime
	}
	decision := auth.DecideRotation(in)
	out := rotationOutcome{Value: current}
	_, out.NextDue = auth.NeedsRotation(in.GeneratedAt, now, in.Lifetime, nil)
	if (p.pending == "" && !decision.Due) || p.blocked {
		return out, nil
	}
	why := decision.Why
	if !decision.Due {
		why = "a rotation was under way"
	}

	history := auth.ParseHistory(live.Annotations[p.history])
	next := p.pending
	if next == "" {
		var err error
		if next, err = auth.GenerateUnused(nil, policy, current, history); err != nil {
			out.Warning = fmt.Sprintf("the %s is due for rotation (%s), but %v", p.what, why, err)
			return out, nil
		}
		if p.stage != nil {
			if err := r.patchSecret(ctx, live, func(s *corev1.Secret) { p.stage(s, next) }); err != nil {
				return out, err
			}
		}
	}
	if err := p.push(ctx, next); err != nil {
		cause := druidconn.ProblemOf(err).Message
		out.Warning = fmt.Sprintf("the %s is due for rotation (%s) and waits until Druid can be reached: %s", p.what, why, cause)
		if p.stage != nil {
			out.Warning = fmt.Sprintf("the %s is due for rotation (%s); the new one waits in Secret %q until Druid accepts it: %s", p.what, why, live.Name, cause)
		}
		log.FromContext(ctx).Info("Password rotation pending", "password", p.what, "cause", cause)
		return out, nil
	}

	keep := 0
	if policy != nil {
		keep = int(policy.History)
	}
	history, err := auth.PushHashed(nil, history, current, keep)
	if err != nil {
		return out, err
	}
	encoded, err := json.Marshal(history)
	if err != nil {
		return out, err
	}
	at := now.UTC().Truncate(time.Second)
	if err := r.patchSecret(ctx, live, func(s *corev1.Secret) {
		s.Data[p.key] = []byte(next)
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[p.generatedAt] = at.Format(time.RFC3339)
		s.Annotations[p.history] = string(encoded)
		if p.commit != nil {
			p.commit(s)
		}
	}); err != nil {
		return out, err
	}
	r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, p.eventReason, "RotatePassword", "%s", p.eventNote(why))
	out.Value, out.Rotated = next, true
	_, out.NextDue = auth.NeedsRotation(at, now, in.Lifetime, nil)
	return out, nil
}
