package auth

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

func TestDecideRotation(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 30, 0, time.UTC)
	day := &metav1.Duration{Duration: 24 * time.Hour}
	hour := &metav1.Duration{Duration: time.Hour}
	violation := []Violation{{Rule: "minLength", Message: "minLength: too short"}}
	for _, tc := range []struct {
		name  string
		in    RotationInput
		due   bool
		cause Cause
		why   string
		next  time.Time
	}{
		{"none yet", RotationInput{Now: now, Lifetime: day}, true, CauseMissing, "there was no usable one",
			now.Truncate(time.Second).Add(24 * time.Hour)},
		{"fresh", RotationInput{Usable: true, GeneratedAt: now.Add(-time.Hour), Now: now, Lifetime: day}, false, CauseNone, "",
			now.Add(23 * time.Hour)},
		{"no limit", RotationInput{Usable: true, GeneratedAt: now.Add(-1000 * time.Hour), Now: now}, false, CauseNone, "", time.Time{}},
		{"older than the lifetime", RotationInput{Usable: true, GeneratedAt: now.Add(-25 * time.Hour), Now: now, Lifetime: day}, true, CauseExpired,
			"it was older than the SecurityPolicy's lifetime of 24h", now.Truncate(time.Second).Add(24 * time.Hour)},
		{"older than the shorter rotation period", RotationInput{Usable: true, GeneratedAt: now.Add(-2 * time.Hour), Now: now, Lifetime: day, Period: hour},
			true, CauseExpired, "it was older than the rotation period of 1h", now.Truncate(time.Second).Add(time.Hour)},
		{"breaks the policy", RotationInput{Usable: true, Violations: violation, GeneratedAt: now, Now: now}, true, CauseNonCompliant,
			"it no longer satisfied the SecurityPolicy (minLength: too short)", time.Time{}},
		{"unknown age with a limit", RotationInput{Usable: true, Now: now, Period: hour}, true, CauseExpired,
			"it was older than the rotation period of 1h", now.Truncate(time.Second).Add(time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := DecideRotation(tc.in)
			if got.Due != tc.due || got.Cause != tc.cause || got.Why != tc.why || !got.Next.Equal(tc.next) {
				t.Errorf("DecideRotation = %+v, want due %v cause %q why %q next %v", got, tc.due, tc.cause, tc.why, tc.next)
			}
		})
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{2160 * time.Hour: "2160h", 15 * time.Minute: "15m", 90 * time.Minute: "1h30m", 45 * time.Second: "45s"} {
		if got := ShortDuration(d); got != want {
			t.Errorf("ShortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestGenerateUnusedAvoidsTheCurrentAndTheHistory(t *testing.T) {
	// A reader that yields the same bytes every time makes every generated password the same.
	same := func() *repeatReader { return &repeatReader{b: 7} }
	first, err := GenerateUnused(same(), nil, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := GenerateUnused(same(), nil, first, nil); err == nil || !strings.Contains(err.Error(), "repeated") {
		t.Errorf("the current password was generated again: %v", err)
	}
	hash, err := HashPassword(nil, first)
	if err != nil {
		t.Fatal(err)
	}
	keepFive := &implyv1alpha1.PasswordPolicy{History: 5}
	if _, err := GenerateUnused(same(), keepFive, "other", []string{hash}); err == nil {
		t.Error("a password of the history was generated again")
	}
	if got, err := GenerateUnused(nil, keepFive, first, []string{hash}); err != nil || got == first {
		t.Errorf("GenerateUnused = %q, %v", got, err)
	}
}

func TestParseHistoryAndPushHashed(t *testing.T) {
	if got := ParseHistory(""); len(got) != 0 {
		t.Errorf("empty history = %v", got)
	}
	if got := ParseHistory("not json"); len(got) != 0 {
		t.Errorf("unreadable history = %v", got)
	}
	history, err := PushHashed(nil, ParseHistory(`["a"]`), "old-password", 2)
	if err != nil || len(history) != 2 || history[1] != "a" || !MatchesHistory("old-password", history[:1]) {
		t.Fatalf("PushHashed = %v, %v", history, err)
	}
	if kept, _ := PushHashed(nil, history, "newer", 0); len(kept) != 0 {
		t.Errorf("keep 0 kept %v", kept)
	}
	if same, _ := PushHashed(nil, history, "", 2); len(same) != 2 {
		t.Errorf("an empty password changed the history: %v", same)
	}
}

// repeatReader yields the byte b forever.
type repeatReader struct{ b byte }

func (r *repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.b
	}
	return len(p), nil
}
