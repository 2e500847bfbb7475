//go:build linux

package simcluster

import "syscall"

// ChildSysProcAttr returns the attributes simcluster starts its processes with: each leads its
// own process group (so Stop can kill the group) and gets SIGKILL when the process that started
// it dies, so a killed test leaves nothing behind.
func ChildSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// signalGroup sends sig to the process group led by pid.
func signalGroup(pid int, sig syscall.Signal) error {
	return syscall.Kill(-pid, sig)
}
