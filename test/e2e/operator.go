package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/imply-operator/imply-operator/test/simcluster"
	"github.com/imply-operator/imply-operator/test/testenv"
)

// operator is the operator binary running as a process against the simulated cluster, as it
// runs from a laptop or in a pod: only KUBECONFIG and flags.
type operator struct {
	binary, kubeconfig, logPath string
	// args are extra flags, after the defaults (a flag given twice takes the last value).
	args []string
	// probeURL is the base of the health probes of the process running now.
	probeURL string
	cmd      *exec.Cmd
	done     chan struct{}
	starts   int
}

// buildOperator builds the operator binary from main.go into dir.
func buildOperator(dir string) (string, error) {
	binary := filepath.Join(dir, "imply-operator")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Dir = testenv.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("while building the operator: %w\n%s", err, out)
	}
	return binary, nil
}

// start runs the operator; its output goes to logPath (appended, one header per start).
func (o *operator) start() error {
	probePort, err := simcluster.FreePort()
	if err != nil {
		return err
	}
	log, err := os.OpenFile(o.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	o.starts++
	fmt.Fprintf(log, "===== operator start %d at %s =====\n", o.starts, time.Now().UTC().Format(time.RFC3339Nano))
	args := append([]string{"--metrics-bind-address=0",
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", probePort), "--zap-log-level=debug"}, o.args...)
	cmd := exec.Command(o.binary, args...)
	cmd.Env = []string{"KUBECONFIG=" + o.kubeconfig, "HOME=" + os.Getenv("HOME"), "PATH=" + os.Getenv("PATH")}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = simcluster.ChildSysProcAttr()
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return err
	}
	o.cmd, o.done = cmd, make(chan struct{})
	o.probeURL = fmt.Sprintf("http://127.0.0.1:%d", probePort)
	go func() {
		_ = cmd.Wait()
		_ = log.Close()
		close(o.done)
	}()
	return nil
}

// stop ends the operator with sig (SIGKILL: no chance to clean up) and waits for it to exit.
func (o *operator) stop(sig syscall.Signal) error {
	if o.cmd == nil {
		return nil
	}
	select {
	case <-o.done:
		return errors.New("the operator had already exited; see " + o.logPath)
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

// logTail returns the last lines of the operator's log, for failure messages.
func (o *operator) logTail(lines int) string {
	data, err := os.ReadFile(o.logPath)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}
