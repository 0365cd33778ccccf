package server

import (
	"bytes"
	"strconv"

	"github.com/loomcache/loomcache/resp"
)

// Reading the replies of the partitions a whole-keyspace command ran on
// (partition.go): enough of RESP2 and RESP3 to split a reply into its
// values. The replies are this node's or another node's own, but a
// malformed one is still answered as it is rather than trusted.

// maxReplyDepth bounds the nesting replyLen follows.
const maxReplyDepth = 64

// replyLen returns the length of the first whole value in b, or false.
func replyLen(b []byte) (int, bool) { return replyLenDepth(b, 0) }

func replyLenDepth(b []byte, depth int) (int, bool) {
	if len(b) == 0 || depth > maxReplyDepth {
		return 0, false
	}
	eol := bytes.Index(b, []byte("\r\n"))
	if eol < 0 {
		return 0, false
	}
	line := eol + 2
	switch b[0] {
	case '+', '-', ':', ',', '#', '_', '(':
		return line, true
	case '$', '=', '!':
		n, ok := resp.ParseInt(b[1:eol])
		if !ok || n < -1 {
			return 0, false
		}
		if n == -1 {
			return line, true
		}
		end := line + int(n) + 2
		if int64(end) != int64(line)+n+2 || end > len(b) {
			return 0, false
		}
		return end, true
	case '*', '~', '>', '%', '|':
		n, ok := resp.ParseInt(b[1:eol])
		if !ok || n < -1 || n > int64(len(b)) {
			return 0, false
		}
		if b[0] == '%' || b[0] == '|' {
			n *= 2
		}
		at := line
		for range n {
			k, ok := replyLenDepth(b[at:], depth+1)
			if !ok {
				return 0, false
			}
			at += k
		}
		if b[0] == '|' { // an attribute precedes the value it describes
			k, ok := replyLenDepth(b[at:], depth+1)
			return at + k, ok
		}
		return at, true
	}
	return 0, false
}

// replyArray splits an array reply (RESP2 or RESP3) into its elements'
// bytes; false for anything else.
func replyArray(b []byte) ([][]byte, bool) {
	if len(b) == 0 || b[0] != '*' {
		return nil, false
	}
	eol := bytes.Index(b, []byte("\r\n"))
	if eol < 0 {
		return nil, false
	}
	n, ok := resp.ParseInt(b[1:eol])
	if !ok || n < 0 || n > int64(len(b)) {
		return nil, false
	}
	out := make([][]byte, 0, n)
	at := eol + 2
	for range n {
		k, ok := replyLen(b[at:])
		if !ok {
			return nil, false
		}
		out = append(out, b[at:at+k])
		at += k
	}
	return out, at == len(b)
}

// replyInt reads an integer reply.
func replyInt(b []byte) (int64, bool) {
	if len(b) < 3 || b[0] != ':' || !bytes.HasSuffix(b, []byte("\r\n")) {
		return 0, false
	}
	return resp.ParseInt(b[1 : len(b)-2])
}

// replyUint reads a bulk string holding an unsigned number (a cursor).
func replyUint(b []byte) (uint64, bool) {
	if len(b) == 0 || b[0] != '$' {
		return 0, false
	}
	eol := bytes.Index(b, []byte("\r\n"))
	if eol < 0 || len(b) < eol+4 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[eol+2:len(b)-2]), 10, 64)
	return v, err == nil
}

// replyNull reports whether b is a null reply (RESP2's or RESP3's).
func replyNull(b []byte) bool {
	return bytes.Equal(b, []byte("$-1\r\n")) || bytes.Equal(b, []byte("*-1\r\n")) || bytes.Equal(b, []byte("_\r\n"))
}
