//go:build integration

package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// signalMoments is how many moments TestSIGTERMAtAnyMoment signals at.
const signalMoments = 20

// signalFloor is the earliest moment it signals at, counted from when the
// Go runtime has installed its signal handlers (SigCgt in /proc). Until the
// runtime reaches the service's first package a signal ends any Go program
// as the kernel's default action does; the service subscribes to SIGTERM
// there, in internal/shutdown's init, about 2 ms into the runtime's start
// on a quiet machine, but 10 ms was seen to be too little on a loaded one
// (1 time in 120).
const signalFloor = 50 * time.Millisecond

// TestSIGTERMAtAnyMoment sends SIGTERM at 20 moments spread from the
// process's start to 500 ms after it is ready, on the embedded engine and a
// migrated database: every time the process exits 0, without a panic.
func TestSIGTERMAtAnyMoment(t *testing.T) {
	bin := buildBinary(t)
	env := []string{"DATABASE_URL=" + database(t, "hw_test_sigterm_moments")}
	startService(t, bin, env...).stop(t) // migrates the database
	began := time.Now()
	svc := startService(t, bin, env...)
	span := time.Since(began) + 500*time.Millisecond
	if code := svc.stop(t); code != 0 {
		t.Fatalf("exit code of a clean stop = %d\n%s", code, svc.log.String())
	}
	t.Logf("ready after %v; signalling from %v to %v", span-500*time.Millisecond, signalFloor, span)
	for i := range signalMoments {
		at := signalFloor + time.Duration(i)*(span-signalFloor)/(signalMoments-1)
		svc := launchService(t, bin, env...)
		caught := runtimeStarted(t, svc.cmd.Process.Pid)
		time.Sleep(time.Until(caught.Add(at)))
		if err := svc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatalf("signal at %v: %v", at, err)
		}
		code, log := svc.wait(t, time.Minute), svc.log.String()
		if code != 0 || strings.Contains(log, "panic") {
			t.Errorf("SIGTERM %v after start: exit code %d, want 0 without a panic\n%s", at.Round(time.Millisecond), code, tail(log, 30))
		}
	}
}

// wait returns the exit code of the process, failing the test when it has
// not exited within d.
func (s *service) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case err := <-s.done:
		return exitCode(err)
	case <-time.After(d):
		t.Fatalf("service did not exit within %v after SIGTERM\n%s", d, s.log.String())
		return -1
	}
}

// runtimeStarted waits until process pid catches SIGTERM (its Go runtime
// installed its handlers) and returns when it saw that.
func runtimeStarted(t *testing.T, pid int) time.Time {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if catchesSIGTERM(pid) {
			return time.Now()
		}
		time.Sleep(100 * time.Microsecond)
	}
	t.Fatalf("process %d did not install signal handlers within 10 s", pid)
	return time.Time{}
}

// catchesSIGTERM reads the SigCgt mask of /proc/pid/status.
func catchesSIGTERM(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(b)) {
		if mask, ok := strings.CutPrefix(line, "SigCgt:"); ok {
			bits, err := strconv.ParseUint(strings.TrimSpace(mask), 16, 64)
			return err == nil && bits&(1<<(syscall.SIGTERM-1)) != 0
		}
	}
	return false
}
