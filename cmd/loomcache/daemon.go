package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// daemonEnv marks the background child of daemonize yes; its value is
// the descriptor of the pipe the child reports on.
const daemonEnv = "LOOMCACHE_DAEMON_READY_FD"

// daemonize runs this command again in the background, in a session of
// its own, and returns the exit code of the foreground one: 0 once the
// child listens, 1 with the child's error if it could not start.
func daemonize() int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loomcache: daemonize:", err)
		return 1
	}
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loomcache: daemonize:", err)
		return 1
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loomcache: daemonize:", err)
		return 1
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), daemonEnv+"=3")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "loomcache: daemonize:", err)
		return 1
	}
	w.Close()
	null.Close()
	msg, _ := io.ReadAll(r) // until the child reports, or exits
	cmd.Process.Release()
	switch m := strings.TrimSpace(string(msg)); {
	case m == "ok":
		return 0
	case m == "":
		fmt.Fprintln(os.Stderr, "loomcache: the background node exited before it listened (see its logfile)")
	default:
		fmt.Fprintln(os.Stderr, "loomcache:", m)
	}
	return 1
}

// reportReady tells the foreground command, if this is a daemon's child,
// that the node listens (err nil) or why it could not start.
func reportReady(err error) {
	if os.Getenv(daemonEnv) == "" {
		return
	}
	os.Unsetenv(daemonEnv) // once
	f := os.NewFile(3, "ready")
	if f == nil {
		return
	}
	if err != nil {
		fmt.Fprintln(f, err)
	} else {
		fmt.Fprintln(f, "ok")
	}
	f.Close()
}
