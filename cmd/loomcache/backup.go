package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/loomcache/loomcache/backup"
)

// backupMain runs `loomcache backup` and `loomcache restore-backup`
// (docs/backup.md); the exit code is main's.
func backupMain(cmd string, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("loomcache "+cmd, flag.ContinueOnError)
	fs.SetOutput(out)
	var o backup.Options
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:6379", "RESP address of any node of the cluster")
	fs.StringVar(&o.Username, "user", "", "ACL user (default: the default user)")
	fs.StringVar(&o.Password, "password", os.Getenv("LOOMCACHE_PASSWORD"), "password (or LOOMCACHE_PASSWORD)")
	outFile := fs.String("out", "", "backup: the file to write")
	var file string
	if cmd == "restore-backup" && len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx := context.Background()
	start := time.Now()
	switch cmd {
	case "backup":
		if *outFile == "" || fs.NArg() > 0 {
			return errors.New("usage: loomcache backup --addr host:port --out FILE")
		}
		parts, err := backup.Take(ctx, o)
		if err != nil {
			return err
		}
		// Written aside and renamed: a backup file is whole or absent.
		tmp := *outFile + ".tmp"
		f, err := os.Create(tmp)
		if err != nil {
			return err
		}
		err = backup.Write(f, parts)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp, *outFile)
		}
		if err != nil {
			os.Remove(tmp)
			return err
		}
		fmt.Fprintf(out, "backup of %d partition(s) written to %s: %s in %v\n", len(parts), *outFile, describe(parts), time.Since(start).Round(time.Millisecond))
	case "restore-backup":
		if file == "" && fs.NArg() == 1 {
			file = fs.Arg(0)
		}
		if file == "" {
			return errors.New("usage: loomcache restore-backup FILE --addr host:port")
		}
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		parts, err := backup.Read(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		if err := backup.Restore(ctx, o, parts); err != nil {
			return err
		}
		fmt.Fprintf(out, "restored %d partition(s) from %s: %s in %v\n", len(parts), file, describe(parts), time.Since(start).Round(time.Millisecond))
	}
	return nil
}

func describe(parts []backup.Part) string {
	var size int
	for _, p := range parts {
		size += len(p.Data)
	}
	s := fmt.Sprintf("%d bytes", size)
	if len(parts) > 0 {
		s += fmt.Sprintf(", partition 0 at index %d term %d", parts[0].Index, parts[0].Term)
	}
	return s
}
