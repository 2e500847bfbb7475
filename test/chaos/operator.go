package chaos

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/imply-operator/imply-operator/test/simcluster"
	"github.com/imply-operator/imply-operator/test/testenv"
)

// Operator is the operator binary running against the simulated cluster, started with a clock
// offset (--clock-offset) and killed with SIGKILL.
type Operator struct {
	binary, kubeconfig, logPath string
	// Offset is the clock offset of the next start.
	Offset time.Duration
	cmd    *exec.Cmd
	done   chan struct{}
	starts int
}

// BuildOperator builds the operator from main.go into dir.
func BuildOperator(dir, kubeconfig string) (*Operator, error) {
	binary := filepath.Join(dir, "imply-operator")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Dir = testenv.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("while building the operator: %w\n%s", err, out)
	}
	return &Operator{binary: binary, kubeconfig: kubeconfig, logPath: filepath.Join(dir, "operator.log")}, nil
}

// LogPath is where the operator's output goes (every start appended).
func (o *Operator) LogPath() string { return o.logPath }

// Start runs the operator with the current Offset.
func (o *Operator) Start() error {
	probePort, err := simcluster.FreePort()
	if err != nil {
		return err
	}
	log, err := os.OpenFile(o.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	o.starts++
	fmt.Fprintf(log, "===== operator start %d at %s, clock offset %s =====\n", o.starts, time.Now().UTC().Format(time.RFC3339Nano), o.Offset)
	cmd := exec.Command(o.binary, "--metrics-bind-address=0", "--druid-resync-period=5s",
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", probePort), fmt.Sprintf("--clock-offset=%s", o.Offset))
	cmd.Env = []string{"KUBECONFIG=" + o.kubeconfig, "HOME=" + os.Getenv("HOME"), "PATH=" + os.Getenv("PATH")}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = simcluster.ChildSysProcAttr()
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return err
	}
	o.cmd, o.done = cmd, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = log.Close()
		close(o.done)
	}()
	return nil
}

// Stop ends the operator with sig and waits for it to exit.
func (o *Operator) Stop(sig syscall.Signal) error {
	if o.cmd == nil {
		return nil
	}
	select {
	case <-o.done:
		o.cmd = nil
		return errors.New("the operator had exited by itself; see " + o.logPath)
	default:
	}
	if err := o.cmd.Process.Signal(sig); err != nil {
		return err
	}
	select {
	case <-o.done:
	case <-time.After(30 * time.Second):
		_ = o.cmd.Process.Kill()
		<-o.done
	}
	o.cmd = nil
	return nil
}

// Running reports whether the operator process is alive.
func (o *Operator) Running() bool {
	if o.cmd == nil {
		return false
	}
	select {
	case <-o.done:
		return false
	default:
		return true
	}
}
