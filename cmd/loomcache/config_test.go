package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/loomcache/loomcache/raftfsm"
)

func TestDefaultsMatchTheContract(t *testing.T) {
	cfg, err := parseArgs(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ID != "n1" || cfg.Addr != "127.0.0.1:6379" || cfg.RaftAddr != "127.0.0.1:7379" ||
		cfg.DataDir != "./loomcache-data" || !cfg.Fsync || len(cfg.Members) != 0 ||
		cfg.SnapshotThreshold != 10000 || cfg.Databases != 16 {
		t.Fatalf("defaults: %+v", cfg)
	}
}

func TestFileThenFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "loomcache.conf")
	conf := "# a comment\nid n7\naddr 127.0.0.1:7000\nfsync no\ncluster \"n1=127.0.0.1:1,n7=127.0.0.1:2\"\n"
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseArgs([]string{"server", file, "--addr", "127.0.0.1:7001", "--snapshot-threshold=500"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []raftfsm.Member{{ID: "n1", RaftAddr: "127.0.0.1:1"}, {ID: "n7", RaftAddr: "127.0.0.1:2"}}
	if cfg.ID != "n7" || cfg.Addr != "127.0.0.1:7001" || cfg.Fsync || cfg.SnapshotThreshold != 500 ||
		len(cfg.Members) != 2 || cfg.Members[0] != want[0] || cfg.Members[1] != want[1] || cfg.ConfigFile != file {
		t.Fatalf("config: %+v", cfg)
	}
}

func TestBadSettings(t *testing.T) {
	for _, args := range [][]string{
		{"--fsync", "sometimes"},
		{"--nosuch", "x"},
		{"--addr"},
		{"--cluster", "n1"},
		{"--snapshot-threshold", "0"},
		{"--join", "127.0.0.1:6379", "--cluster", "n1=127.0.0.1:7379"},
		{"--databases", "x"},
		{"stray", "positional"},
		{"/nonexistent/loomcache.conf"},
	} {
		if _, err := parseArgs(args, nil); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

func TestClusterSettings(t *testing.T) {
	cfg, err := parseArgs([]string{"--id", "n4", "--raft-addr", "127.0.0.1:7400", "--raft-advertise", "127.0.0.1:9400", "--join", "127.0.0.1:6379"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RaftAddr != "127.0.0.1:7400" || cfg.RaftAdvertise != "127.0.0.1:9400" || cfg.Join != "127.0.0.1:6379" {
		t.Fatalf("config: %+v", cfg)
	}
	if cfg, _ := parseArgs(nil, nil); cfg.RaftAdvertise != "" || cfg.Join != "" {
		t.Fatalf("defaults: advertise %q join %q", cfg.RaftAdvertise, cfg.Join)
	}
}

func TestHelpListsEverySetting(t *testing.T) {
	var out strings.Builder
	if _, err := parseArgs([]string{"--help"}, &out); err != errHelp {
		t.Fatalf("--help: %v", err)
	}
	for _, s := range settings() {
		if !strings.Contains(out.String(), "--"+s.name+" ") {
			t.Errorf("--help does not document --%s", s.name)
		}
	}
}

func TestRedisDirectivesPassThrough(t *testing.T) {
	cfg, err := parseArgs([]string{"--maxclients", "50", "--timeout=7"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Directives) != 2 || cfg.Directives[0] != [2]string{"maxclients", "50"} || cfg.Directives[1] != [2]string{"timeout", "7"} {
		t.Fatalf("directives: %v", cfg.Directives)
	}
}

// TestClusterSecret: --cluster-secret, a cluster-secret line in the
// config file, and LOOMCACHE_CLUSTER_SECRET, in that order of precedence
// from the command line down: flag, environment, file.
func TestClusterSecret(t *testing.T) {
	const flag, env, file = "secret-from-the-command-line", "secret-from-the-environment", "secret-from-the-config-file"
	conf := filepath.Join(t.TempDir(), "loomcache.conf")
	if err := os.WriteFile(conf, []byte("cluster-secret "+file+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		env  string // "": unset
		args []string
		want string
	}{
		{"", nil, ""},
		{"", []string{"--cluster-secret", flag}, flag},
		{"", []string{conf}, file},
		{env, nil, env},
		{env, []string{conf}, env},
		{env, []string{conf, "--cluster-secret=" + flag}, flag},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " ")+" env="+c.env, func(t *testing.T) {
			if c.env != "" {
				t.Setenv(secretEnv, c.env)
			}
			cfg, err := parseArgs(c.args, nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(cfg.ClusterSecret) != c.want {
				t.Errorf("secret %q, want %q", cfg.ClusterSecret, c.want)
			}
		})
	}
	// A short secret is refused, and the error does not repeat it.
	_, err := parseArgs([]string{"--cluster-secret", "tooshort"}, nil)
	if err == nil || strings.Contains(err.Error(), "tooshort") {
		t.Errorf("short secret: %v", err)
	}
	t.Setenv(secretEnv, "tooshort")
	if _, err := parseArgs(nil, nil); err == nil {
		t.Error("short secret in the environment accepted")
	}
}

func TestHelpNamesTheSecretVariable(t *testing.T) {
	var out strings.Builder
	parseArgs([]string{"--help"}, &out)
	if !strings.Contains(out.String(), secretEnv) {
		t.Errorf("--help does not name %s", secretEnv)
	}
}

// Limit directives as redis.conf writes them: several values on a line,
// and client-output-buffer-limit once per class.
func TestRedisDirectivesFromFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "loomcache.conf")
	conf := "client-output-buffer-limit normal 0 0 0\n" +
		"client-output-buffer-limit replica 256mb 64mb 60\n" +
		"client-output-buffer-limit pubsub 32mb 8mb 60\n" +
		"client-query-buffer-limit 1gb\nproto-max-bulk-len 512mb\n"
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseArgs([]string{file, "--client-query-buffer-limit", "2gb"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]string{
		{"client-output-buffer-limit", "normal 0 0 0"},
		{"client-output-buffer-limit", "replica 256mb 64mb 60"},
		{"client-output-buffer-limit", "pubsub 32mb 8mb 60"},
		{"client-query-buffer-limit", "1gb"},
		{"proto-max-bulk-len", "512mb"},
		{"client-query-buffer-limit", "2gb"}, // the command line comes last and wins
	}
	if len(cfg.Directives) != len(want) {
		t.Fatalf("directives: %q", cfg.Directives)
	}
	for i := range want {
		if cfg.Directives[i] != want[i] {
			t.Errorf("directive %d: %q, want %q", i, cfg.Directives[i], want[i])
		}
	}
	// Only a directive may take several values.
	if err := os.WriteFile(file, []byte("addr 127.0.0.1 6379\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := parseArgs([]string{file}, nil); err == nil {
		t.Error("addr with two values accepted")
	}
}

func TestTLSDirectivesFromFileAndFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "loomcache.conf")
	conf := "tls-port 6380\ntls-cert-file /etc/tls/node.crt\ntls-key-file /etc/tls/node.key\n" +
		"tls-protocols \"TLSv1.2 TLSv1.3\"\ntls-auth-clients optional\n"
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseArgs([]string{file, "--tls-auth-clients", "yes", "--tls-ca-cert-file=/etc/tls/ca.crt", "--port", "0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]string{
		{"tls-port", "6380"}, {"tls-cert-file", "/etc/tls/node.crt"}, {"tls-key-file", "/etc/tls/node.key"},
		{"tls-protocols", "TLSv1.2 TLSv1.3"}, {"tls-auth-clients", "optional"},
		// The command line comes after the file; the server keeps the last.
		{"tls-auth-clients", "yes"}, {"tls-ca-cert-file", "/etc/tls/ca.crt"},
	}
	if !slices.Equal(cfg.Directives, want) {
		t.Fatalf("directives:\n%q\nwant\n%q", cfg.Directives, want)
	}
	if !cfg.NoPlainPort {
		t.Fatal("--port 0 left the plain listener on")
	}
}

func TestPortSetting(t *testing.T) {
	cfg, err := parseArgs([]string{"--addr", "10.0.0.1:6379", "--port", "7000"}, nil)
	if err != nil || cfg.Addr != "10.0.0.1:7000" || cfg.NoPlainPort {
		t.Fatalf("--port 7000: %+v %v", cfg, err)
	}
	for _, bad := range []string{"-1", "65536", "x"} {
		if _, err := parseArgs([]string{"--port", bad}, nil); err == nil {
			t.Errorf("--port %s accepted", bad)
		}
	}
}

// Encoding directives as a redis.conf has them: under Redis 7.0's names
// or the ziplist aliases, with the ones Redis ignores, then the command
// line. The server applies them in order (server's tests).
func TestEncodingDirectivesFromFileAndFlags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "loomcache.conf")
	conf := "hash-max-ziplist-entries 128\nhash-max-listpack-value 1kb\nlist-max-ziplist-entries 512\n" +
		"list-max-ziplist-value 64\nzset-max-listpack-entries 64\nactiverehashing no\n"
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseArgs([]string{file, "--hash-max-listpack-entries", "256", "--list-max-ziplist-size=-3",
		"--stream-node-max-bytes", "8kb"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]string{
		{"hash-max-ziplist-entries", "128"}, {"hash-max-listpack-value", "1kb"},
		{"list-max-ziplist-entries", "512"}, {"list-max-ziplist-value", "64"},
		{"zset-max-listpack-entries", "64"}, {"activerehashing", "no"},
		{"hash-max-listpack-entries", "256"}, {"list-max-ziplist-size", "-3"}, {"stream-node-max-bytes", "8kb"},
	}
	if !slices.Equal(cfg.Directives, want) {
		t.Fatalf("directives:\n%q\nwant\n%q", cfg.Directives, want)
	}
	if _, err := parseArgs([]string{"--set-max-listpack-entries", "128"}, nil); err == nil {
		t.Error("set-max-listpack-entries (Redis 7.2's) accepted")
	}
}
