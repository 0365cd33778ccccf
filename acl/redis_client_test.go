package acl_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/acl"
)

// respConn is a minimal RESP2 client for comparing with redis-server.
type respConn struct {
	c net.Conn
	r *bufio.Reader
}

// respErr is an error reply.
type respErr string

func dialRedis(t *testing.T, addr string) *respConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &respConn{c: c, r: bufio.NewReader(c)}
}

// do sends a command and returns its reply: string (status or bulk), nil,
// int64, respErr or []any.
func (c *respConn) do(t *testing.T, args ...string) any {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	c.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.c.Write([]byte(b.String())); err != nil {
		t.Fatalf("write: %v", err)
	}
	v, err := c.read()
	if err != nil {
		t.Fatalf("read reply to %q: %v", args, err)
	}
	return v
}

func (c *respConn) read() (any, error) {
	line, err := c.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, fmt.Errorf("empty line")
	}
	body := line[1:]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return respErr(body), nil
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, nil
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = c.read(); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected reply %q", line)
}

// catalogFromRedis builds a catalog from the live server's COMMAND reply:
// every command with its ACL categories, no_auth flag and subcommands,
// sorted by name, so the category best-fit of descriptions counts the
// same commands Redis counts.
func catalogFromRedis(t *testing.T, c *respConn) *acl.Catalog {
	t.Helper()
	reply, ok := c.do(t, "COMMAND").([]any)
	if !ok {
		t.Fatalf("COMMAND reply: %v", reply)
	}
	cats := acl.RedisCategories()
	var conv func(v any) acl.Command
	conv = func(v any) acl.Command {
		info := v.([]any)
		cmd := acl.Command{Name: info[0].(string)}
		for _, f := range info[2].([]any) {
			if f == "no_auth" {
				cmd.NoAuth = true
			}
		}
		for _, cv := range info[6].([]any) {
			i := slices.Index(cats, strings.TrimPrefix(cv.(string), "@"))
			if i < 0 {
				t.Fatalf("unknown category %v", cv)
			}
			cmd.Categories |= 1 << i
		}
		for _, sub := range info[9].([]any) {
			cmd.Subcommands = append(cmd.Subcommands, conv(sub))
		}
		slices.SortFunc(cmd.Subcommands, func(a, b acl.Command) int { return strings.Compare(a.Name, b.Name) })
		return cmd
	}
	var cmds []acl.Command
	for _, v := range reply {
		cmds = append(cmds, conv(v))
	}
	slices.SortFunc(cmds, func(a, b acl.Command) int { return strings.Compare(a.Name, b.Name) })
	cat, err := acl.NewCatalog(cats, cmds)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// normalizeRules puts the single-command rules of a description in a
// fixed order. Redis emits them in its command dict's hash order, which
// changes between restarts; the category rules before them, and the
// order within one command (the command, then its subcommands or first
// arguments), are deterministic and kept.
func normalizeRules(cat *acl.Catalog, s string) string {
	toks := strings.Split(s, " ")
	out := make([]string, 0, len(toks))
	for i := 0; i < len(toks); {
		if !isCommandRule(toks[i]) {
			out = append(out, toks[i])
			i++
			continue
		}
		j := i
		for j < len(toks) && isCommandRule(toks[j]) {
			j++
		}
		run := slices.Clone(toks[i:j])
		closing := strings.HasSuffix(run[len(run)-1], ")")
		run[len(run)-1] = strings.TrimSuffix(run[len(run)-1], ")")
		k := 0
		for k < len(run) && strings.HasPrefix(run[k][1:], "@") {
			k++
		}
		single := run[k:]
		slices.SortStableFunc(single, func(a, b string) int { return compareRule(cat, a, b) })
		if closing {
			run[len(run)-1] += ")"
		}
		out = append(out, run...)
		i = j
	}
	return strings.Join(out, " ")
}

func isCommandRule(tok string) bool {
	t := strings.TrimPrefix(tok, "(")
	return strings.HasPrefix(t, "+") || strings.HasPrefix(t, "-")
}

// compareRule orders rules by command, the command's own rule first,
// then subcommands by name; first arguments keep their order.
func compareRule(cat *acl.Catalog, a, b string) int {
	an, bn := a[1:], b[1:]
	abase, asub, _ := strings.Cut(an, "|")
	bbase, bsub, _ := strings.Cut(bn, "|")
	if c := strings.Compare(abase, bbase); c != 0 {
		return c
	}
	if (asub == "") != (bsub == "") {
		if asub == "" {
			return -1
		}
		return 1
	}
	if _, isSub := cat.ID(an); isSub && asub != "" {
		return strings.Compare(asub, bsub)
	}
	return 0
}
