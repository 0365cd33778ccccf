package raftfsm

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/loomcache/loomcache/op"
)

// Request forwarding, channel 'F' of the cluster port. A follower sends a
// client's command to the leader as an op.Forward op; the leader runs it
// as the client's connection would and sends back the reply's bytes,
// which the follower writes to its client unchanged.
//
// After the hello, the follower sends requests and the leader answers
// them, in any order, over the same connection:
//
//	request:  uvarint frame id | uvarint n | n bytes: the encoded op.Forward op
//	response: uvarint frame id | status byte | uvarint n | n bytes: the reply
//
// Status forwardOK carries the reply; forwardNotLeader says the node does
// not lead (or lost leadership before the command took effect): nothing
// was applied, and the follower asks the leader it knows next. A frame
// that does not parse closes the connection.
const (
	forwardOK        byte = 0
	forwardNotLeader byte = 1
	// maxForwardFrame bounds a request or reply: a command carries at
	// most a few values of proto-max-bulk-len (512MB by default).
	maxForwardFrame = 1 << 31
)

// ForwardHandler runs a forwarded command on the leader and returns its
// reply bytes; notLeader reports that nothing was applied because this
// node does not lead, so the follower should try again.
type ForwardHandler func(req *op.Op) (reply []byte, notLeader bool)

// errFrame is a forwarding frame that does not parse.
var errFrame = errors.New("forward: bad frame")

// SetForwardHandler sets what runs the commands followers forward to this
// node. Until it is set, forwarding connections are closed at once.
func (n *Node) SetForwardHandler(h ForwardHandler) {
	n.fwdHandler.Store(&h)
	n.mux.setForward(n.serveForward)
}

// serveForward answers the requests of one forwarding connection; each
// runs in its own goroutine, so a slow command does not hold up the rest
// and concurrent writes share Raft's batches.
func (n *Node) serveForward(nc net.Conn, _ Hello) {
	var wg sync.WaitGroup
	defer wg.Wait()
	defer nc.Close()
	h := *n.fwdHandler.Load()
	br := bufio.NewReaderSize(nc, 16*1024)
	var wmu sync.Mutex
	bw := bufio.NewWriterSize(nc, 16*1024)
	for {
		id, data, err := readFrame(br)
		if err != nil {
			return
		}
		var req op.Op
		if err := op.Decode(data, &req); err != nil || req.Type != op.Forward {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			reply, notLeader := h(&req)
			status := forwardOK
			if notLeader {
				status, reply = forwardNotLeader, nil
			}
			wmu.Lock()
			defer wmu.Unlock()
			if writeResponse(bw, id, status, reply) != nil || bw.Flush() != nil {
				nc.Close() // the reader sees it and ends
			}
		}()
	}
}

// readFrame reads a request frame: its id and its payload.
func readFrame(r *bufio.Reader) (uint64, []byte, error) {
	id, err := binary.ReadUvarint(r)
	if err != nil {
		return 0, nil, err
	}
	b, err := readPayload(r)
	return id, b, err
}

func readPayload(r *bufio.Reader) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > maxForwardFrame {
		return nil, fmt.Errorf("%w: %d bytes", errFrame, n)
	}
	if n <= 1<<20 {
		b := make([]byte, n)
		_, err = io.ReadFull(r, b)
		return b, err
	}
	// A large payload grows as it arrives, so a bad length costs no more
	// memory than the bytes actually sent.
	var buf bytes.Buffer
	if _, err := io.CopyN(&buf, r, int64(n)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeRequest(w *bufio.Writer, id uint64, req []byte) error {
	var hdr [2 * binary.MaxVarintLen64]byte
	h := binary.AppendUvarint(hdr[:0], id)
	h = binary.AppendUvarint(h, uint64(len(req)))
	w.Write(h)
	_, err := w.Write(req)
	return err
}

func writeResponse(w *bufio.Writer, id uint64, status byte, reply []byte) error {
	var hdr [2*binary.MaxVarintLen64 + 1]byte
	h := binary.AppendUvarint(hdr[:0], id)
	h = append(h, status)
	h = binary.AppendUvarint(h, uint64(len(reply)))
	w.Write(h)
	_, err := w.Write(reply)
	return err
}

// readResponse reads a response frame.
func readResponse(r *bufio.Reader) (id uint64, status byte, reply []byte, err error) {
	if id, err = binary.ReadUvarint(r); err != nil {
		return 0, 0, nil, err
	}
	if status, err = r.ReadByte(); err != nil {
		return 0, 0, nil, err
	}
	if status != forwardOK && status != forwardNotLeader {
		return 0, 0, nil, fmt.Errorf("%w: status %d", errFrame, status)
	}
	reply, err = readPayload(r)
	return id, status, reply, err
}
