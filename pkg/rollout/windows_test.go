package rollout

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	implyv1alpha1 "github.com/imply-operator/imply-operator/api/v1alpha1"
)

// at parses an RFC 3339 instant; tests use it for readable times.
func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// mustWindows parses schedule/duration pairs.
func mustWindows(t *testing.T, pairs ...string) []Window {
	t.Helper()
	var mws []implyv1alpha1.MaintenanceWindow
	for i := 0; i < len(pairs); i += 2 {
		d, err := time.ParseDuration(pairs[i+1])
		if err != nil {
			t.Fatal(err)
		}
		mws = append(mws, implyv1alpha1.MaintenanceWindow{Schedule: pairs[i], Duration: metav1.Duration{Duration: d}})
	}
	ws, err := ParseWindows(mws)
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func TestParseWindows(t *testing.T) {
	hour := metav1.Duration{Duration: time.Hour}
	cases := []struct {
		name    string
		in      []implyv1alpha1.MaintenanceWindow
		wantErr []string // substrings, all required; empty means success
	}{
		{name: "none"},
		{name: "valid", in: []implyv1alpha1.MaintenanceWindow{
			{Schedule: "0 2 * * SAT", Duration: metav1.Duration{Duration: 4 * time.Hour}},
			{Schedule: " */15 1-3 1,15 JAN-MAR mon-fri ", Duration: hour},
			{Schedule: "0 0 29 2 *", Duration: hour},
		}},
		{name: "reversed range names the index", in: []implyv1alpha1.MaintenanceWindow{
			{Schedule: "0 2 * * *", Duration: hour},
			{Schedule: "0 5-3 * * *", Duration: hour},
		}, wantErr: []string{"maintenanceWindows[1].schedule: beginning of range (5) beyond end of range (3)"}},
		{name: "six fields", in: []implyv1alpha1.MaintenanceWindow{{Schedule: "0 0 2 * * *", Duration: hour}},
			wantErr: []string{"maintenanceWindows[0].schedule: expected exactly 5 fields"}},
		{name: "descriptor", in: []implyv1alpha1.MaintenanceWindow{{Schedule: "@daily", Duration: hour}},
			wantErr: []string{"maintenanceWindows[0].schedule: parser does not accept descriptors"}},
		{name: "empty", in: []implyv1alpha1.MaintenanceWindow{{Schedule: "  ", Duration: hour}},
			wantErr: []string{"maintenanceWindows[0].schedule: must not be empty"}},
		{name: "time zone", in: []implyv1alpha1.MaintenanceWindow{{Schedule: "TZ=UTC", Duration: hour}},
			wantErr: []string{"maintenanceWindows[0].schedule: must not name a time zone"}},
		{name: "cron time zone", in: []implyv1alpha1.MaintenanceWindow{{Schedule: "CRON_TZ=Europe/Paris 0 2 * * *", Duration: hour}},
			wantErr: []string{"maintenanceWindows[0].schedule: must not name a time zone"}},
		{name: "never fires", in: []implyv1alpha1.MaintenanceWindow{{Schedule: "0 0 30 2 *", Duration: hour}},
			wantErr: []string{`maintenanceWindows[0].schedule: "0 0 30 2 *" never fires`}},
		{name: "zero duration", in: []implyv1alpha1.MaintenanceWindow{{Schedule: "0 2 * * *"}},
			wantErr: []string{"maintenanceWindows[0].duration: must be positive"}},
		{name: "every problem reported", in: []implyv1alpha1.MaintenanceWindow{
			{Schedule: "0 24 * * *", Duration: hour},
			{Schedule: "0 2 * * *", Duration: hour},
			{Schedule: "0 2 * * *", Duration: metav1.Duration{Duration: -time.Hour}},
		}, wantErr: []string{"maintenanceWindows[0].schedule: end of range (24) above maximum (23)", "maintenanceWindows[2].duration"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws, err := ParseWindows(tc.in)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if len(ws) != len(tc.in) {
					t.Fatalf("got %d windows, want %d", len(ws), len(tc.in))
				}
				for i, w := range ws {
					if w.Schedule != tc.in[i].Schedule || w.Duration != tc.in[i].Duration.Duration {
						t.Errorf("window %d = %+v", i, w)
					}
				}
				return
			}
			if err == nil {
				t.Fatalf("expected an error containing %q", tc.wantErr)
			}
			if ws != nil {
				t.Errorf("expected no windows on error, got %d", len(ws))
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestInWindow(t *testing.T) {
	nightly := mustWindows(t, "0 22 * * *", "4h")      // 22:00-02:00, across midnight
	saturday := mustWindows(t, "0 2 * * SAT", "4h")    // 2026-11-28 is a Saturday
	newYear := mustWindows(t, "30 23 31 12 *", "2h")   // across the year
	halfHourly := mustWindows(t, "*/30 * * * *", "1h") // always open
	twoWindows := mustWindows(t, "0 1 * * *", "2h", "0 2 * * *", "3h")
	cases := []struct {
		name     string
		ws       []Window
		now      string
		wantOpen bool
		wantEnd  string
	}{
		{"no windows", nil, "2026-11-23T08:00:00Z", false, ""},
		{"before nightly", nightly, "2026-11-23T21:59:59Z", false, ""},
		{"opens at its activation", nightly, "2026-11-23T22:00:00Z", true, "2026-11-24T02:00:00Z"},
		{"open across midnight", nightly, "2026-11-24T00:30:00Z", true, "2026-11-24T02:00:00Z"},
		{"last instant", nightly, "2026-11-24T01:59:59.999Z", true, "2026-11-24T02:00:00Z"},
		{"closed at its end", nightly, "2026-11-24T02:00:00Z", false, ""},
		{"weekly, a minute in", saturday, "2026-11-28T02:01:00Z", true, "2026-11-28T06:00:00Z"},
		{"weekly, wrong day", saturday, "2026-11-27T03:00:00Z", false, ""},
		{"across the year", newYear, "2027-01-01T01:00:00Z", true, "2027-01-01T01:30:00Z"},
		{"across the year, closed", newYear, "2027-01-01T01:30:00Z", false, ""},
		{"overlapping windows merge", twoWindows, "2026-11-23T01:30:00Z", true, "2026-11-23T05:00:00Z"},
		{"second of two", twoWindows, "2026-11-23T04:00:00Z", true, "2026-11-23T05:00:00Z"},
		// Opened at 08:00 until 09:00, then 64 back-to-back openings merged: 09:00 + 64h.
		{"always open is bounded", halfHourly, "2026-11-23T08:10:00Z", true, "2026-11-26T01:00:00Z"},
		// US daylight saving starts 2026-03-08 and EU's 2026-03-29: UTC windows do not move.
		{"US DST day", mustWindows(t, "30 2 * * *", "1h"), "2026-03-08T02:45:00Z", true, "2026-03-08T03:30:00Z"},
		{"EU DST day", mustWindows(t, "0 1 * * *", "1h"), "2026-03-29T01:00:00Z", true, "2026-03-29T02:00:00Z"},
		// A 30-day monthly window: November's touches December's, which ends a day before January's.
		{"long window, touching openings", mustWindows(t, "0 0 1 * *", "720h"), "2026-11-30T23:59:00Z", true, "2026-12-31T00:00:00Z"},
		{"long window, gap", mustWindows(t, "0 0 1 * *", "720h"), "2026-12-31T00:00:00Z", false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			open, end := InWindow(tc.ws, at(t, tc.now))
			if open != tc.wantOpen {
				t.Fatalf("open = %v, want %v", open, tc.wantOpen)
			}
			if !tc.wantOpen {
				if !end.IsZero() {
					t.Errorf("end = %v, want zero", end)
				}
				return
			}
			if want := at(t, tc.wantEnd); !end.Equal(want) || end.Location() != time.UTC {
				t.Errorf("end = %v, want %v UTC", end, want)
			}
		})
	}
}

// TestInWindowWalk steps a fake clock minute by minute through two days and checks InWindow
// against a brute-force reading of the schedule, and that NextWindow agrees.
func TestInWindowWalk(t *testing.T) {
	ws := mustWindows(t, "45 23 * * *", "90m", "0 12 * * MON", "30m")
	clk := clocktesting.NewFakeClock(at(t, "2026-11-22T00:00:00Z")) // a Sunday
	open := func(now time.Time) bool {
		mins := now.Hour()*60 + now.Minute()
		if mins >= 23*60+45 || mins < 75 {
			return true
		}
		return now.Weekday() == time.Monday && mins >= 12*60 && mins < 12*60+30
	}
	for end := clk.Now().Add(48 * time.Hour); clk.Now().Before(end); clk.Step(time.Minute) {
		now := clk.Now()
		got, _ := InWindow(ws, now)
		if got != open(now) {
			t.Fatalf("%v: open = %v, want %v", now, got, open(now))
		}
		next := NextWindow(ws, now)
		if !next.After(now) {
			t.Fatalf("%v: next window %v not after now", now, next)
		}
		if o, _ := InWindow(ws, next); !o {
			t.Fatalf("%v: not open at next window %v", now, next)
		}
	}
}

func TestNextWindow(t *testing.T) {
	cases := []struct {
		name string
		ws   []Window
		now  string
		want string
	}{
		{"none", nil, "2026-11-23T08:00:00Z", ""},
		{"later today", mustWindows(t, "0 22 * * *", "4h"), "2026-11-23T08:00:00Z", "2026-11-23T22:00:00Z"},
		{"open now gives the next one", mustWindows(t, "0 22 * * *", "4h"), "2026-11-23T22:00:00Z", "2026-11-24T22:00:00Z"},
		{"earliest of several", mustWindows(t, "0 2 * * SAT", "4h", "0 3 * * WED", "1h"), "2026-11-23T08:00:00Z", "2026-11-25T03:00:00Z"},
		{"next year", mustWindows(t, "30 23 31 12 *", "2h"), "2027-01-01T00:00:00Z", "2027-12-31T23:30:00Z"},
		{"leap day", mustWindows(t, "0 0 29 2 *", "1h"), "2026-11-23T08:00:00Z", "2028-02-29T00:00:00Z"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := NextWindow(tc.ws, at(t, tc.now))
			if tc.want == "" {
				if !got.IsZero() {
					t.Fatalf("got %v, want zero", got)
				}
				return
			}
			if want := at(t, tc.want); !got.Equal(want) || got.Location() != time.UTC {
				t.Fatalf("got %v, want %v UTC", got, want)
			}
		})
	}
}

// TestWindowsIgnoreTheCallersZone checks that local times name the same UTC windows.
func TestWindowsIgnoreTheCallersZone(t *testing.T) {
	ws := mustWindows(t, "0 2 * * *", "1h")
	nyc := time.FixedZone("EST", -5*3600)
	now := at(t, "2026-11-23T02:30:00Z").In(nyc) // 21:30 the day before in EST
	if open, end := InWindow(ws, now); !open || !end.Equal(at(t, "2026-11-23T03:00:00Z")) || end.Location() != time.UTC {
		t.Fatalf("InWindow = %v, %v", open, end)
	}
	if next := NextWindow(ws, now); !next.Equal(at(t, "2026-11-24T02:00:00Z")) || next.Location() != time.UTC {
		t.Fatalf("NextWindow = %v", next)
	}
}

// TestZeroWindowNeverOpens covers a Window built without ParseWindows.
func TestZeroWindowNeverOpens(t *testing.T) {
	now := at(t, "2026-11-23T02:30:00Z")
	if open, _ := InWindow([]Window{{Schedule: "* * * * *", Duration: time.Hour}}, now); open {
		t.Fatal("a zero Window opened")
	}
	if next := NextWindow([]Window{{}}, now); !next.IsZero() {
		t.Fatalf("NextWindow = %v", next)
	}
}
