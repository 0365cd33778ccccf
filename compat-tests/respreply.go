package compattests

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
)

// maxReplyLen bounds one bulk or aggregate length the reader accepts, so a
// garbled stream fails instead of allocating without end.
const maxReplyLen = 1 << 30

// Reply is one whole RESP2 or RESP3 reply as it was read off the wire.
type Reply struct {
	// Raw is every byte of the reply, from its type byte to its last CRLF
	// (an attribute that precedes it included).
	Raw []byte
	// Type is the reply's type byte ('+', '-', ':', '$', '*', '%', ...).
	Type byte
	// Header is the first line without its CRLF, e.g. "*3" or "$5".
	Header []byte
	// Elems are an aggregate's elements; a map's or attribute's are its
	// keys and values in turn. Nil for a null aggregate.
	Elems []Reply
}

// errMalformed marks bytes that are not a valid reply.
var errMalformed = errors.New("malformed reply")

// ReadReply reads exactly one reply from br. A connection closed before
// the reply began is io.EOF; closed inside it, io.ErrUnexpectedEOF.
func ReadReply(br *bufio.Reader) (Reply, error) { return readReply(br, 0) }

func readReply(br *bufio.Reader, depth int) (Reply, error) {
	if depth > 64 {
		return Reply{}, fmt.Errorf("%w: nested deeper than 64", errMalformed)
	}
	line, err := readLine(br)
	if err != nil {
		if depth > 0 {
			err = eof(err)
		}
		return Reply{}, err
	}
	if len(line) == 0 {
		return Reply{}, fmt.Errorf("%w: empty line", errMalformed)
	}
	r := Reply{Type: line[0], Header: line}
	raw := append(append([]byte{}, line...), '\r', '\n')
	switch r.Type {
	case '+', '-', ':', '_', ',', '#', '(':
		// A single line.
	case '$', '!', '=':
		n, err := length(line)
		if err != nil {
			return Reply{}, err
		}
		if n >= 0 {
			body := make([]byte, n+2)
			if _, err := io.ReadFull(br, body); err != nil {
				return Reply{}, eof(err)
			}
			if body[n] != '\r' || body[n+1] != '\n' {
				return Reply{}, fmt.Errorf("%w: bulk of %d not followed by CRLF", errMalformed, n)
			}
			raw = append(raw, body...)
		}
	case '*', '~', '>', '%', '|':
		n, err := length(line)
		if err != nil {
			return Reply{}, err
		}
		if r.Type == '%' || r.Type == '|' {
			n *= 2
		}
		if n >= 0 {
			r.Elems = make([]Reply, 0, min(n, 1024))
			for i := 0; i < n; i++ {
				e, err := readReply(br, depth+1)
				if err != nil {
					return Reply{}, err
				}
				r.Elems = append(r.Elems, e)
				raw = append(raw, e.Raw...)
			}
		}
		if r.Type == '|' {
			// An attribute annotates the reply that follows it: to the
			// caller the two are one reply, of the second one's type.
			next, err := readReply(br, depth+1)
			if err != nil {
				return Reply{}, eof(err)
			}
			next.Raw = append(raw, next.Raw...)
			return next, nil
		}
	default:
		return Reply{}, fmt.Errorf("%w: unknown type byte %q", errMalformed, r.Type)
	}
	r.Raw = raw
	return r, nil
}

// readLine reads one CRLF-terminated line and returns it without the CRLF.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadBytes('\n')
	if err != nil {
		if len(line) > 0 && errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("%w: line %q not ended by CRLF", errMalformed, line)
	}
	return line[:len(line)-2], nil
}

// length parses the count or length of a header line; -1 is a null.
func length(line []byte) (int, error) {
	n, err := strconv.Atoi(string(line[1:]))
	if err != nil || n < -1 || n > maxReplyLen {
		return 0, fmt.Errorf("%w: bad length in %q", errMalformed, line)
	}
	return n, nil
}

// eof turns an EOF inside a reply into ErrUnexpectedEOF, so only a
// connection closed between replies reads as io.EOF.
func eof(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Sorted returns the reply's bytes with its top-level elements in byte
// order (a map's key/value pairs kept together), for replies
// whose order Redis leaves unspecified. Other replies are returned as is.
func (r Reply) Sorted() []byte {
	if len(r.Elems) == 0 {
		return r.Raw
	}
	step := 1
	if r.Type == '%' {
		step = 2
	}
	items := make([][]byte, 0, len(r.Elems)/step)
	for i := 0; i+step <= len(r.Elems); i += step {
		var item []byte
		for _, e := range r.Elems[i : i+step] {
			item = append(item, e.Raw...)
		}
		items = append(items, item)
	}
	sort.Slice(items, func(i, j int) bool { return bytes.Compare(items[i], items[j]) < 0 })
	out := make([]byte, 0, len(r.Raw))
	out = append(out, r.Header...)
	out = append(out, "\r\n"...)
	for _, it := range items {
		out = append(out, it...)
	}
	return out
}

// RulesSorted returns the reply's bytes with every bulk string's runs of
// single-command ACL rules ("+get +set -del", words starting with + or -
// and naming no @category) sorted. Redis describes those in the order of
// its command dict, whose hash seed is random per process, so ACL LIST
// and ACL GETUSER list them in a different order on every redis-server.
func (r Reply) RulesSorted() []byte {
	switch {
	case r.Type == '$' && len(r.Elems) == 0:
		start := bytes.Index(r.Raw, []byte("\r\n")) + 2
		if start < 2 || len(r.Raw) < start+2 {
			return r.Raw
		}
		body := sortRuleRuns(r.Raw[start : len(r.Raw)-2])
		return append(append(append([]byte{}, r.Raw[:start]...), body...), "\r\n"...)
	case len(r.Elems) > 0:
		out := append(append([]byte{}, r.Header...), "\r\n"...)
		for _, e := range r.Elems {
			out = append(out, e.RulesSorted()...)
		}
		return out
	}
	return r.Raw
}

func sortRuleRuns(text []byte) []byte {
	words := bytes.Split(text, []byte(" "))
	single := func(w []byte) bool {
		return len(w) > 1 && (w[0] == '+' || w[0] == '-') && !bytes.ContainsRune(w, '@')
	}
	for i := 0; i < len(words); {
		j := i
		for j < len(words) && single(words[j]) {
			j++
			if bytes.HasSuffix(words[j-1], []byte(")")) {
				break // a selector ends: its ")" stays last
			}
		}
		run := words[i:j]
		closes := len(run) > 0 && bytes.HasSuffix(run[len(run)-1], []byte(")"))
		if closes {
			run[len(run)-1] = bytes.TrimSuffix(run[len(run)-1], []byte(")"))
		}
		sort.Slice(run, func(a, b int) bool { return bytes.Compare(run[a], run[b]) < 0 })
		if closes {
			run[len(run)-1] = append(append([]byte{}, run[len(run)-1]...), ')')
		}
		i = max(j, i+1)
	}
	return bytes.Join(words, []byte(" "))
}
