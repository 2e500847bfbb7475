//go:build unix && !linux

package simcluster

import "syscall"

// ChildSysProcAttr returns the attributes simcluster starts its processes with: each leads its
// own process group, so Stop can kill the group. (Only Linux can also tie a child's life to its
// parent's.)
func ChildSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// signalGroup sends sig to the process group led by pid.
func signalGroup(pid int, sig syscall.Signal) error {
	return syscall.Kill(-pid, sig)
}
