package v1alpha1

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/robfig/cron/v3"
)

// scheduleRegex reads the maintenance-window schedule rule out of the generated CRD, so the test
// checks what the apiserver enforces, not a copy of it.
func scheduleRegex(t *testing.T) *regexp.Regexp {
	t.Helper()
	crd, err := os.ReadFile("../../config/crd/bases/imply.operator.dev_implyclusters.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`rule: self\.matches\(r?'(.*)'\)\n`).FindAllSubmatch(crd, -1)
	for _, sub := range m {
		if strings.Contains(string(sub[1]), "SAT") {
			return regexp.MustCompile(string(sub[1]))
		}
	}
	t.Fatal("no schedule rule in the ImplyCluster CRD")
	return nil
}

// windowParser parses the 5-field schedules a maintenance window takes, without descriptors.
var windowParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// TestScheduleRuleAgreesWithCron pins that the CEL shape check on maintenance-window schedules
// agrees with github.com/robfig/cron/v3 on 5-field schedules: what the rule accepts parses, and what
// does not parse is rejected — apart from two documented gaps.
func TestScheduleRuleAgreesWithCron(t *testing.T) {
	re := scheduleRegex(t)
	cases := []string{
		"0 2 * * SAT", "0 2 * * sat", "*/15 * * * *", "0 0-6 1,15 * MON-FRI", "30 23 31 12 0",
		"0 2 ? * SUN", "5,10-20/5 * * JAN-MAR *", "0 0 1 */3 *", "59 23 * * 6",
		"0 2 * *", "0 2 * * * *", "60 2 * * *", "0 24 * * *", "0 2 32 * *", "0 2 0 * *",
		"0 2 * 13 *", "0 2 * * 7", "@daily", "@every 1h", "0 2 * * FUNDAY", "", "* * * * * ",
		"a b c d e", "0 2 * * -1",
	}
	for _, spec := range cases {
		_, err := windowParser.Parse(spec)
		if got, want := re.MatchString(spec), err == nil; got != want {
			t.Errorf("schedule %q: CRD rule accepts=%v, robfig/cron parses=%v (%v)", spec, got, want, err)
		}
	}
	// Gap 1: a reversed range has the right shape but is not a valid schedule; the controller
	// reports it at runtime. Gap 2: the parser takes an empty list element, the rule does not.
	if _, err := windowParser.Parse("0 5-3 * * *"); err == nil || !re.MatchString("0 5-3 * * *") {
		t.Errorf("expected the reversed range to pass the shape check and fail the parser")
	}
	if _, err := windowParser.Parse("0 2 * * MON,"); err != nil || re.MatchString("0 2 * * MON,") {
		t.Errorf("expected a trailing comma to be rejected by the rule only")
	}
}
