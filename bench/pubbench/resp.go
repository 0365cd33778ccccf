package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// respReader reads the replies and pushes a subscriber or a publisher
// gets: RESP2 arrays of bulk strings and integers, simple strings,
// errors and integers. Its fields alias a buffer it reuses, valid until
// the next read: a subscriber at 10,000 connections reads millions of
// messages and should not allocate for each.
type respReader struct {
	br     *bufio.Reader
	buf    []byte
	bounds []int
	fields [][]byte
}

func newRESPReader(br *bufio.Reader) *respReader { return &respReader{br: br} }

// errReply is a RESP error the server sent.
type errReply string

func (e errReply) Error() string { return string(e) }

// read reads one value. An array's elements (bulk strings or integers,
// as text) are in fields; a lone simple string or integer is fields[0];
// a nil bulk string is an empty field. A RESP error is an errReply.
func (r *respReader) read() ([][]byte, error) {
	r.buf, r.bounds, r.fields = r.buf[:0], r.bounds[:0], r.fields[:0]
	line, err := r.line()
	if err != nil {
		return nil, err
	}
	switch line[0] {
	case '-':
		return nil, errReply(line[1:])
	case '+', ':':
		r.buf = append(r.buf, line[1:]...)
		r.bounds = append(r.bounds, 0, len(r.buf))
		return r.slice(), nil
	case '$':
		return r.bulks(1, line)
	case '*':
		n, err := strconv.Atoi(string(line[1:]))
		if err != nil || n < 0 || n > 1024 {
			return nil, fmt.Errorf("bad array header %q", line)
		}
		return r.bulks(n, nil)
	}
	return nil, fmt.Errorf("unexpected reply %q", line)
}

// bulks reads n elements; first, if set, is the first one's header
// already read.
func (r *respReader) bulks(n int, first []byte) ([][]byte, error) {
	for i := range n {
		hdr := first
		if i > 0 || hdr == nil {
			line, err := r.line()
			if err != nil {
				return nil, err
			}
			hdr = line
		}
		start := len(r.buf)
		switch hdr[0] {
		case ':', '+':
			r.buf = append(r.buf, hdr[1:]...)
		case '$':
			size, err := strconv.Atoi(string(hdr[1:]))
			if err != nil || size < -1 || size > 1<<20 {
				return nil, fmt.Errorf("bad bulk header %q", hdr)
			}
			if size >= 0 {
				if err := r.payload(size); err != nil {
					return nil, err
				}
			}
		default:
			return nil, fmt.Errorf("unexpected array element %q", hdr)
		}
		r.bounds = append(r.bounds, start, len(r.buf))
	}
	return r.slice(), nil
}

// payload appends a bulk string of size bytes and reads its CRLF.
func (r *respReader) payload(size int) error {
	start := len(r.buf)
	r.buf = append(r.buf, make([]byte, size+2)...)
	if _, err := io.ReadFull(r.br, r.buf[start:]); err != nil {
		return err
	}
	if r.buf[len(r.buf)-2] != '\r' || r.buf[len(r.buf)-1] != '\n' {
		return errors.New("bulk string not ended by CRLF")
	}
	r.buf = r.buf[:len(r.buf)-2]
	return nil
}

// slice turns the start/end pairs in bounds into fields over buf, once
// buf no longer grows.
func (r *respReader) slice() [][]byte {
	for i := 0; i < len(r.bounds); i += 2 {
		r.fields = append(r.fields, r.buf[r.bounds[i]:r.bounds[i+1]])
	}
	return r.fields
}

// line reads a CRLF-ended header line, without the CRLF. It aliases the
// bufio buffer: use it before the next read.
func (r *respReader) line() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("bad line %q", line)
	}
	return line[:len(line)-2], nil
}

// appendCommand appends args as a RESP array of bulk strings.
func appendCommand(b []byte, args ...[]byte) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}

// A message's payload is "publisher seq sent", all decimal: sent is the
// publisher's clock (unix ns) just before it wrote the PUBLISH.
func appendPayload(b []byte, pub int, seq uint64, sent int64) []byte {
	b = strconv.AppendInt(b, int64(pub), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, ' ')
	return strconv.AppendInt(b, sent, 10)
}

// parsePayload reads what appendPayload wrote.
func parsePayload(p []byte) (pub int, seq uint64, sent int64, err error) {
	var v [3]uint64
	i := 0
	for f := range v {
		start := i
		for i < len(p) && p[i] != ' ' {
			d := p[i] - '0'
			if d > 9 || v[f] > (1<<63-1-uint64(d))/10 {
				return 0, 0, 0, fmt.Errorf("bad payload %q", p)
			}
			v[f] = v[f]*10 + uint64(d)
			i++
		}
		if i == start || (f < 2) != (i < len(p)) {
			return 0, 0, 0, fmt.Errorf("bad payload %q", p)
		}
		i++
	}
	if v[0] > 1<<20 {
		return 0, 0, 0, fmt.Errorf("bad publisher in payload %q", p)
	}
	return int(v[0]), v[1], int64(v[2]), nil
}
