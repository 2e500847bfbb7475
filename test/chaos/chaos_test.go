package chaos

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/imply-operator/imply-operator/test/testenv"
)

// TestChaos runs the campaign: the short form, or the full one with CHAOS_FULL=1 (make chaos);
// CHAOS_SEED replays a run. The report goes to bin/chaos.
func TestChaos(t *testing.T) {
	cfg := ConfigFromEnv()
	t.Logf("fault campaign, %s form, seed %d (replay with CHAOS_SEED=%d)", cfg.Form, cfg.Seed, cfg.Seed)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Minute)
	defer cancel()
	report, err := Run(ctx, cfg, t.Logf)
	if report != nil {
		path, werr := report.Write(filepath.Join(testenv.RepoRoot(), "bin", "chaos"))
		if werr != nil {
			t.Errorf("writing the report: %v", werr)
		}
		t.Logf("report (%s):\n%s", path, report.Text())
		for _, v := range report.Violations {
			t.Errorf("[%s] %s", v.Stage, v.Detail)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}
