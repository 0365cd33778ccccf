// Command loomcache runs a LoomCache node: a Redis-compatible, strongly
// consistent cache. `loomcache --help` lists every setting.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/server"
)

func main() {
	if len(os.Args) == 2 && (os.Args[1] == "--version" || os.Args[1] == "-v") {
		fmt.Printf("LoomCache v=%s sha=%s go=%s (speaks Redis %s)\n", server.Version, server.GitSHA(), runtime.Version(), commands.RedisVersion)
		return
	}
	cfg, err := parseArgs(os.Args[1:], os.Stdout)
	if err == errHelp {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loomcache:", err)
		os.Exit(2)
	}
	if cfg.Redis.Daemonize && os.Getenv(daemonEnv) == "" {
		os.Exit(daemonize())
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(cfg.LogOutput, "loomcache:", err)
		reportReady(err)
		os.Exit(1)
	}
}

func run(cfg server.Config) error {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := prepare(&cfg); err != nil {
		return err
	}
	for _, n := range cfg.Redis.Notes {
		fmt.Fprintln(cfg.LogOutput, "loomcache:", n)
	}
	defer server.StartGCTuner()()
	s, err := server.New(cfg)
	if err != nil {
		return err
	}
	pid := cfg.Redis.PidFile
	if pid == "" && cfg.Redis.Daemonize {
		pid = defaultPidFile
	}
	if pid != "" {
		if err := writePidFile(pid); err != nil {
			fmt.Fprintf(cfg.LogOutput, "loomcache: failed to write PID file: %v\n", err)
			pid = ""
		}
	}
	var on []string
	if a := s.Addr(); a != nil {
		on = append(on, a.String())
	}
	if a := s.TLSAddr(); a != nil {
		on = append(on, a.String()+" (TLS)")
	}
	fmt.Fprintf(cfg.LogOutput, "loomcache: node %s serving RESP on %s, raft on %s, data in %s\n",
		cfg.ID, strings.Join(on, " and "), cfg.RaftAddr, cfg.DataDir)
	reportReady(nil)
	// Run serves (and runs the join and the startup users' sync) until
	// its context ends: here, at the first signal, which is remembered
	// for the line that says what was done.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan os.Signal, 1)
	go func() {
		select {
		case sig := <-sigs:
			got <- sig
			cancel()
		case <-ctx.Done():
		}
	}()
	err = s.Run(ctx)
	cancel()
	if pid != "" {
		os.Remove(pid)
	}
	var sig os.Signal
	select {
	case sig = <-got:
	default:
	}
	if sig != nil {
		what := "closed every client connection and stopped the node"
		if err != nil {
			what += fmt.Sprintf(" (close: %v)", err)
		}
		if pid != "" {
			what += ", removed " + pid
		}
		fmt.Fprintf(cfg.LogOutput, "loomcache: %s received: %s; its writes are in %s (fsync %s); bye\n",
			sigName(sig), what, cfg.DataDir, fsyncWord(cfg))
		return nil
	}
	return err
}

// prepare does what Redis does at startup for the process directives:
// works in dir, opens the log file.
func prepare(cfg *server.Config) error {
	if cfg.Redis.Chdir {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return fmt.Errorf("dir: %w", err)
		}
		abs, err := filepath.Abs(cfg.DataDir)
		if err != nil {
			return err
		}
		if err := os.Chdir(abs); err != nil {
			return fmt.Errorf("can't chdir to '%s': %w", abs, err)
		}
		cfg.DataDir = abs
	}
	if cfg.Redis.LogFileSet {
		if cfg.Redis.LogFile == "" {
			cfg.LogOutput = os.Stdout
		} else {
			f, err := os.OpenFile(cfg.Redis.LogFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return fmt.Errorf("can't open the log file: %w", err)
			}
			cfg.LogOutput = f // the process's until it exits
		}
	}
	if cfg.Redis.Daemonize && cfg.LogOutput == os.Stdout {
		cfg.LogOutput = io.Discard // as Redis's daemon, whose stdout is /dev/null
	}
	return nil
}

func sigName(sig os.Signal) string {
	if sig == syscall.SIGTERM {
		return "SIGTERM"
	}
	return "SIGINT"
}

func fsyncWord(cfg server.Config) string {
	switch {
	case cfg.Fsync:
		return "always"
	case cfg.FsyncEverySec:
		return "everysec"
	}
	return "no"
}
