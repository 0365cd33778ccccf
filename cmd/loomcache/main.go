// Command loomcache runs a LoomCache node: a Redis-compatible, strongly
// consistent cache. `loomcache --help` lists every setting.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/server"
)

func main() {
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
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "loomcache:", err)
		os.Exit(1)
	}
}

func run(cfg server.Config) error {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	defer server.StartGCTuner()()
	s, err := server.New(cfg)
	if err != nil {
		return err
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
	// A signal shuts the node down as SHUTDOWN does (as Redis does on
	// SIGTERM): a leader hands its leaderships over first, so a planned
	// restart costs the cluster no election timeout. A second signal
	// stops at once.
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
			s.Shutdown(commands.ShutdownOptions{Signal: signalName(sig)})
		case <-ctx.Done():
		}
	}()
	return s.Run(ctx)
}

func signalName(sig os.Signal) string {
	if sig == syscall.SIGTERM {
		return "SIGTERM"
	}
	return "SIGINT"
}
