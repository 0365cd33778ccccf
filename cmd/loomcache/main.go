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
	if len(os.Args) > 1 && (os.Args[1] == "backup" || os.Args[1] == "restore-backup") {
		if err := backupMain(os.Args[1], os.Args[2:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "loomcache:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "import-rdb" {
		os.Exit(runImportRDB(os.Args[2:], os.Stderr))
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
	// A signal shuts the node down as SHUTDOWN does (as Redis does on
	// SIGTERM), logging one line saying what it did: a leader hands its
	// leaderships over first, so a planned restart costs the cluster no
	// election timeout. A second signal stops at once.
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() {
		select {
		case sig := <-sigs:
			go func() {
				select {
				case <-sigs:
					stop()
				case <-ctx.Done():
				}
			}()
			s.Shutdown(commands.ShutdownOptions{Signal: sigName(sig)})
		case <-ctx.Done():
		}
	}()
	err = s.Run(ctx)
	if pid != "" {
		os.Remove(pid)
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
