package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/loomcache/loomcache/resp"
)

// multiArg are the directives that take several arguments on one line
// (Redis's MULTI_ARG_CONFIG); CONFIG SET's form of them is the arguments
// joined by spaces.
var multiArg = map[string]bool{"save": true, "client-output-buffer-limit": true, "oom-score-adj-values": true,
	"bind": true, "latency-tracking-info-percentiles": true, "replicaof": true, "slaveof": true}

// confReader reads a redis.conf (or loomcache.conf) as Redis's
// loadServerConfigFromString does.
type confReader struct {
	known func(name string) bool
	pairs [][2]string
	notes []string
	// save is the index of the save pair in pairs: the save lines of a
	// file add up, the first replacing the default (setConfigSaveOption).
	save  int
	depth int
}

// readRedisConf reads path's directives, following includes.
func readRedisConf(path string, directives map[string]bool) ([][2]string, []string, error) {
	r := &confReader{save: -1, known: func(n string) bool {
		if directives[n] {
			return true
		}
		for _, s := range append(settings(), redisSettings()...) {
			if s.name == n {
				return true
			}
		}
		return false
	}}
	if err := r.read(path); err != nil {
		return nil, nil, err
	}
	return r.pairs, r.notes, nil
}

func (r *confReader) read(path string) error {
	if r.depth++; r.depth > 10 {
		return fmt.Errorf("config file %s: includes nested too deep", path)
	}
	defer func() { r.depth-- }()
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("Fatal error, can't open config file '%s': %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		fatal := func(why string) error {
			return fmt.Errorf("\n*** FATAL CONFIG FILE ERROR ***\nReading the configuration file %s, at line %d\n>>> '%s'\n%s", path, n, line, why)
		}
		args, ok := resp.SplitArgs([]byte(line), nil)
		if !ok {
			return fatal("Unbalanced quotes in configuration line")
		}
		if len(args) == 0 {
			continue
		}
		name := strings.ToLower(string(args[0]))
		vals := make([]string, len(args)-1)
		for i, a := range args[1:] {
			vals[i] = string(a)
		}
		switch name {
		case "include":
			if len(vals) != 1 {
				return fatal("Bad directive or wrong number of arguments")
			}
			matches, err := filepath.Glob(vals[0])
			if err != nil || len(matches) == 0 {
				matches = []string{vals[0]} // not a pattern: open it, and say why not
			}
			for _, m := range matches {
				if err := r.read(m); err != nil {
					return err
				}
			}
			continue
		case "rename-command", "user", "loadmodule", "sentinel":
			r.notes = append(r.notes, fmt.Sprintf("%s:%d: %s accepted and not applied: LoomCache has %s", path, n, name, map[string]string{
				"rename-command": "no command renaming (ACL rules can deny a command)",
				"user":           "its users in the aclfile and ACL SETUSER",
				"loadmodule":     "no modules",
				"sentinel":       "no Sentinel: Raft elects the leader",
			}[name]))
			continue
		}
		if !r.known(name) || len(vals) == 0 || (len(vals) > 1 && !multiArg[name]) {
			return fatal("Bad directive or wrong number of arguments")
		}
		val := strings.Join(vals, " ")
		if name == "save" {
			if r.save >= 0 {
				if val != "" && r.pairs[r.save][1] != "" {
					val = r.pairs[r.save][1] + " " + val
				}
				r.pairs[r.save][1] = val
				continue
			}
			r.save = len(r.pairs)
		}
		r.pairs = append(r.pairs, [2]string{name, val})
	}
	return sc.Err()
}
