package commands

import (
	"bytes"
	"encoding/binary"
	"errors"

	"github.com/loomcache/loomcache/acl"
	"github.com/loomcache/loomcache/op"
)

// BlockForwarder is a Node that has another node run its transactions:
// a follower sends EXEC's queue and WATCHed versions to the leader, which
// runs them as a block. ForwardBlock reports false when the block is to
// run here.
type BlockForwarder interface {
	ForwardBlock(c *Ctx, payload []byte) (reply []byte, err error, forwarded bool)
	// ForwardWatch has the leader read the versions of keys for WATCH, so
	// that a follower behind the leader does not WATCH versions already
	// replaced; it reports false when this node leads.
	ForwardWatch(c *Ctx, keys [][]byte) (reply []byte, err error, forwarded bool)
}

// aclChanged is EXEC's reply for a queued command the user may no longer
// run, as Redis's execCommand words it.
const aclChanged = "NOPERM ACLs rules changed between the moment the transaction was accumulated and its execution"

// runTransaction runs EXEC's queue. Permissions are checked again (they
// may have changed since the commands were queued) where the client is,
// then the leader runs the block.
func (t *Table) runTransaction(c *Ctx, queue [][][]byte, watched []op.Check) {
	tx := transaction{watched: watched, cmds: make([]queuedCmd, len(queue))}
	for i, args := range queue {
		tx.cmds[i].args = args
		if cmd, _ := t.Resolve(args); cmd != nil {
			pc := *c
			pc.Args = args
			tx.cmds[i].denied = pc.permit(cmd, acl.ContextMulti) != ""
		}
	}
	if f, ok := c.Node.(BlockForwarder); ok {
		reply, err, forwarded := f.ForwardBlock(c, tx.encode())
		if forwarded {
			if err != nil {
				c.W.Error(nodeError(err))
				return
			}
			c.W.Raw(reply)
			if len(reply) > 0 && reply[0] == '*' && !bytes.HasPrefix(reply, []byte("*-1")) {
				t.feedForwardedQueue(c, &tx)
				t.selectAfter(c, &tx) // the leader's session moved, not this one
			}
			return
		}
	}
	t.execTransaction(c, &tx)
}

// selectAfter leaves the connection in the database the transaction's
// last SELECT chose, as it would be had the transaction run here.
func (t *Table) selectAfter(c *Ctx, tx *transaction) {
	for i := len(tx.cmds) - 1; i >= 0; i-- {
		q := tx.cmds[i]
		if len(q.args) != 2 || q.denied || !eq(q.args[0], "SELECT") {
			continue
		}
		if n, ok := parseInt(q.args[1]); ok && n >= 0 && n < int64(c.Node.Store().NumDBs()) {
			c.S.SelectDB(int(n))
			return
		}
	}
}

// RunForwardedTransaction runs, on the leader, a transaction a follower
// forwarded (ForwardBlock's payload), its connection's database and
// protocol already set on c.
func (t *Table) RunForwardedTransaction(c *Ctx, payload []byte) {
	tx, err := decodeTransaction(payload)
	if err != nil {
		c.W.Error(errBadOp.Error())
		return
	}
	t.execTransaction(c, tx)
}

func (t *Table) execTransaction(c *Ctx, tx *transaction) {
	var keys [][]byte
	for _, q := range tx.cmds {
		if cmd, _ := t.Resolve(q.args); cmd != nil {
			for _, p := range cmd.KeyPositions(q.args) {
				keys = append(keys, q.args[p])
			}
		}
	}
	t.runBlock(c, c.S.DB, keys, tx.watched, func(bc *Ctx, b *block) {
		bc.W.Array(len(tx.cmds))
		for _, q := range tx.cmds {
			if q.denied {
				bc.W.Error(aclChanged)
				continue
			}
			cmd, msg := t.Resolve(q.args)
			if cmd == nil {
				bc.W.Error(msg)
				continue
			}
			bc.Args = q.args
			b.prepare(cmd, q.args, bc.S.DB)
			t.Run(bc, cmd)
		}
	})
}

// transaction is EXEC's work: the queue, and the WATCHed versions.
type transaction struct {
	watched []op.Check
	cmds    []queuedCmd
}

type queuedCmd struct {
	args   [][]byte
	denied bool // the user may no longer run it
}

// Forwarded form: uvarint length and the checks (op.AppendChecks), uvarint
// command count, then per command a flags byte (1: denied), uvarint
// argument count and each argument length-prefixed.

const maxTxCommands = 1 << 24

var errBadTransaction = errors.New("malformed forwarded transaction")

func (tx *transaction) encode() []byte {
	checks := op.AppendChecks(nil, tx.watched)
	b := binary.AppendUvarint(nil, uint64(len(checks)))
	b = append(b, checks...)
	b = binary.AppendUvarint(b, uint64(len(tx.cmds)))
	for _, q := range tx.cmds {
		var f byte
		if q.denied {
			f = 1
		}
		b = append(b, f)
		b = binary.AppendUvarint(b, uint64(len(q.args)))
		for _, a := range q.args {
			b = binary.AppendUvarint(b, uint64(len(a)))
			b = append(b, a...)
		}
	}
	return b
}

func decodeTransaction(b []byte) (*transaction, error) {
	next := func() (uint64, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	bytes := func() ([]byte, bool) {
		n, ok := next()
		if !ok || n > uint64(len(b)) {
			return nil, false
		}
		p := b[:n:n]
		b = b[n:]
		return p, true
	}
	checks, ok := bytes()
	if !ok {
		return nil, errBadTransaction
	}
	watched, err := op.DecodeChecks(checks)
	if err != nil {
		return nil, errBadTransaction
	}
	count, ok := next()
	if !ok || count > maxTxCommands || count > uint64(len(b)) {
		return nil, errBadTransaction
	}
	tx := &transaction{watched: watched, cmds: make([]queuedCmd, count)}
	for i := range tx.cmds {
		if len(b) == 0 || b[0] > 1 {
			return nil, errBadTransaction
		}
		tx.cmds[i].denied = b[0] == 1
		b = b[1:]
		argc, ok := next()
		if !ok || argc == 0 || argc > uint64(len(b)) {
			return nil, errBadTransaction
		}
		args := make([][]byte, argc)
		for j := range args {
			if args[j], ok = bytes(); !ok {
				return nil, errBadTransaction
			}
		}
		tx.cmds[i].args = args
	}
	if len(b) != 0 {
		return nil, errBadTransaction
	}
	for _, w := range tx.watched {
		if !w.Watch || w.Store {
			return nil, errBadTransaction
		}
	}
	return tx, nil
}
