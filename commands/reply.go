package commands

import (
	"errors"
	"fmt"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/resp"
)

// Appliers return plain values that writeResult turns into replies, so a
// result can cross Raft's future without knowing the connection's protocol:
//
//	nil         null bulk string
//	nullArray   null array
//	int64       integer
//	[]byte      bulk string
//	status      simple string (+OK)
//	error       error reply; its text carries the code ("ERR ...")
//	[]any       array of the above
//	setReply    set of bulk strings (an array in RESP2)
//	listPop     what a ListPop op popped, in the shape it asked for
//	RawReply    RESP bytes, written as they are (a reply the leader sent)
//	replyWriter a structured result that writes its own reply (the shape
//	            may depend on the connection's protocol)
type (
	status    string
	nullArray struct{}
)

// RawReply is a reply already encoded, as a follower gets it back from
// the leader for a proposal it forwarded.
type RawReply []byte

// Size is the reply's length, for the memory of replies kept by request id.
func (r RawReply) Size() int { return len(r) }

const ok = status("OK")

// replyWriter is a result that writes its own reply: a value whose RESP2
// and RESP3 shapes differ beyond what the plain values express.
type replyWriter interface{ writeReply(w *resp.Writer) }

// errorf builds an error reply value.
func errorf(format string, a ...any) error { return fmt.Errorf(format, a...) }

func writeResult(w *resp.Writer, v any) {
	switch v := v.(type) {
	case nil:
		w.Null()
	case nullArray:
		w.NullArray()
	case int64:
		w.Int(v)
	case []byte:
		w.Bulk(v)
	case status:
		w.Status(string(v))
	case error:
		w.Error(v.Error())
	case RawReply:
		w.Raw(v)
		if len(v) > 0 && v[0] == '-' {
			w.Errors++ // counted in errorstats where it was made (a block's)
		}
	case replyWriter:
		v.writeReply(w)
	case setReply:
		w.Set(len(v))
		for _, m := range v {
			w.Bulk(m)
		}
	case listPop:
		writeListPop(w, v)
	case []any:
		w.Array(len(v))
		for _, e := range v {
			writeResult(w, e)
		}
	default:
		w.Error(fmt.Sprintf("ERR internal: unexpected result %T", v))
	}
}

// Redis's shared error replies.
var (
	errWrongType     = keyspace.ErrWrongType
	errNotInt        = errors.New("ERR value is not an integer or out of range")
	errNotFloat      = errors.New("ERR value is not a valid float")
	errSyntax        = errors.New("ERR syntax error")
	errNoSuchKey     = errors.New("ERR no such key")
	errOverflow      = errors.New("ERR increment or decrement would overflow")
	errInvalidExpire = "ERR invalid expire time in '%s' command"
	errDBIndex       = errors.New("ERR DB index is out of range")
)
