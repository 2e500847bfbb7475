package chaos

import (
	"os"
	"strconv"
	"time"
)

// The stages of the campaign, in order.
const (
	StageBaseline  = "baseline"
	StageCA        = "ca-rotation"
	StageRenewal   = "leaf-renewal"
	StagePasswords = "password-rotation"
	StageToken     = "token-rotation"
	StageQuiet     = "restart-when-converged"
)

// Config is one form of the campaign.
type Config struct {
	// Form is "short" (make test) or "full" (make chaos).
	Form string
	// Seed drives every random choice: when faults strike and for how long.
	Seed int64
	// KillsPerStage operator SIGKILLs are spread over each of the four stages, KillGap apart.
	KillsPerStage int
	KillGap       [2]time.Duration
	// APIServerRestarts and EtcdRestarts name the stages in which each is crashed (SIGKILL) and
	// restarted once.
	APIServerRestarts, EtcdRestarts []string
	// FaultStages are the stages in which the coordinator answers 5xx, timeouts and resets for a
	// stretch of FaultWindow.
	FaultStages []string
	FaultWindow [2]time.Duration
	// ConvergeBound is how long a stage may take to converge after its last fault.
	ConvergeBound time.Duration
	// QuietPeriod is how long a restarted operator is watched for writes once converged.
	QuietPeriod time.Duration
}

// ShortConfig fits make test: 12 kills, one apiserver and one etcd restart, two fault windows.
func ShortConfig(seed int64) Config {
	return Config{Form: "short", Seed: seed, KillsPerStage: 3, KillGap: [2]time.Duration{500 * time.Millisecond, 3 * time.Second},
		APIServerRestarts: []string{StageCA}, EtcdRestarts: []string{StagePasswords},
		FaultStages: []string{StagePasswords, StageToken}, FaultWindow: [2]time.Duration{4 * time.Second, 8 * time.Second},
		ConvergeBound: 2 * time.Minute, QuietPeriod: 15 * time.Second}
}

// FullConfig is make chaos: 28 kills, two apiserver and two etcd restarts, four fault windows.
func FullConfig(seed int64) Config {
	return Config{Form: "full", Seed: seed, KillsPerStage: 7, KillGap: [2]time.Duration{300 * time.Millisecond, 3 * time.Second},
		APIServerRestarts: []string{StageCA, StagePasswords}, EtcdRestarts: []string{StageRenewal, StageToken},
		FaultStages: []string{StageCA, StageRenewal, StagePasswords, StageToken}, FaultWindow: [2]time.Duration{8 * time.Second, 15 * time.Second},
		ConvergeBound: 3 * time.Minute, QuietPeriod: 30 * time.Second}
}

// ConfigFromEnv is the full form with CHAOS_FULL=1, else the short one; the seed is CHAOS_SEED
// when set (to replay a run), else the time.
func ConfigFromEnv() Config {
	seed := time.Now().UnixNano()
	if s := os.Getenv("CHAOS_SEED"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			seed = n
		}
	}
	if os.Getenv("CHAOS_FULL") == "1" {
		return FullConfig(seed)
	}
	return ShortConfig(seed)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
