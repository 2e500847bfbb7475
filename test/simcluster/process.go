package simcluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// tailBytes is how much of a process's most recent output is kept in memory for error messages.
const tailBytes = 64 << 10

// tailLines is how many of those lines an error message quotes.
const tailLines = 40

// process is one child process of the cluster: its command, where its output goes, and when it
// ended.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string // empty when the output goes to Options.Output
	// logIsTemp says the log goes away with the cluster (a failed Start removes it), so error
	// messages do not point at it.
	logIsTemp bool
	logFile   *os.File
	tail      *tailBuffer
	done      chan struct{} // closed when the process has exited
	err       error         // the exit error, valid once done is closed
	// binary, args, dir, workDir and out start it again (Cluster.Restart).
	binary, dir, workDir string
	args                 []string
	out                  io.Writer
	// serving, when set, says whether the restarted process serves again.
	serving func(ctx context.Context) (bool, error)
}

// startProcess starts binary with args in dir. Its output goes to a file <workDir>/<name>.log,
// or, when out is not nil, to out with each line prefixed by "[name] ".
func startProcess(name, binary string, args []string, dir, workDir string, out io.Writer) (*process, error) {
	p := &process{name: name, tail: &tailBuffer{}, done: make(chan struct{}), binary: binary, args: args, dir: dir, workDir: workDir, out: out}
	var dest io.Writer
	if out != nil {
		dest = &prefixWriter{prefix: "[" + name + "] ", out: out}
	} else {
		p.logPath = filepath.Join(workDir, name+".log")
		f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("while creating the log file of %s: %w", name, err)
		}
		p.logFile = f
		dest = f
	}
	w := io.MultiWriter(dest, p.tail)

	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Stdout = w
	cmd.Stderr = w
	cmd.SysProcAttr = ChildSysProcAttr()
	// Do not wait forever for the output copy when a grandchild keeps the pipe open.
	cmd.WaitDelay = 2 * time.Second
	p.cmd = cmd
	if err := cmd.Start(); err != nil {
		p.closeLog()
		return nil, fmt.Errorf("while starting %s (%s): %w", name, binary, err)
	}
	go func() {
		p.err = cmd.Wait()
		p.closeLog()
		close(p.done)
	}()
	return p, nil
}

func (p *process) closeLog() {
	if p.logFile != nil {
		_ = p.logFile.Close()
	}
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// describe says how the process ended (or that it runs), where its log is, and quotes its tail.
func (p *process) describe() string {
	var b strings.Builder
	if p.exited() {
		fmt.Fprintf(&b, "%s exited (%v)", p.name, p.err)
	} else {
		fmt.Fprintf(&b, "%s is running (pid %d)", p.name, p.cmd.Process.Pid)
	}
	if p.logPath != "" && !p.logIsTemp {
		fmt.Fprintf(&b, "; full log: %s", p.logPath)
	}
	fmt.Fprintf(&b, "; last lines of its log:\n%s", indent(p.tail.lastLines(tailLines)))
	return b.String()
}

// signal sends sig to the process group of the process (it leads its own group).
func (p *process) signal(sig syscall.Signal) {
	if p.exited() {
		return
	}
	if err := signalGroup(p.cmd.Process.Pid, sig); err != nil {
		_ = p.cmd.Process.Signal(sig)
	}
}

// stop asks the process to end, then kills its group if it is still there after grace.
func (p *process) stop(grace time.Duration) error {
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.signal(syscall.SIGKILL)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			return fmt.Errorf("%s (pid %d) did not die after SIGKILL", p.name, p.cmd.Process.Pid)
		}
	}
	return nil
}

// tailBuffer keeps the last tailBytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - tailBytes; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

func (t *tailBuffer) lastLines(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimRight(string(t.buf), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	s := strings.Join(lines, "\n")
	if strings.TrimSpace(s) == "" {
		return "(no output)"
	}
	return s
}

func (t *tailBuffer) contains(s string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Contains(t.buf, []byte(s))
}

// prefixWriter writes whole lines to out, each prefixed. Writers shared by several processes are
// serialized by outMu.
type prefixWriter struct {
	prefix  string
	out     io.Writer
	mu      sync.Mutex
	partial []byte
}

var outMu sync.Mutex

func (w *prefixWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, b...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := w.partial[:i+1]
		outMu.Lock()
		_, err := io.WriteString(w.out, w.prefix+string(line))
		outMu.Unlock()
		w.partial = w.partial[i+1:]
		if err != nil {
			return len(b), err
		}
	}
	return len(b), nil
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
