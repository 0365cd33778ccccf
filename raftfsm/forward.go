package raftfsm

import (
	"bufio"
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
//	request:  uvarint frame id | uvarint n | n bytes: an encoded op.Forward op, or a batch of them
//	response: uvarint frame id | status byte | uvarint n | n bytes: the reply
//
// A batch (op.AppendBatch) is a client's pipeline: its commands run on the
// leader in order, as that client's connection would run them (writes
// proposed without waiting for each other), and the reply is their replies
// one after another. The status is the batch's: unless every command was
// answered, the follower sends the whole batch again, with the same ids.
//
// The status byte is a ForwardResult: 0 carries the reply; 1 says the
// node does not lead (or lost leadership before the command took
// effect): nothing was applied, and the follower asks the leader it knows
// next; 2 says leadership was lost with the command's write in flight:
// it may or may not be applied, and the follower sends the same request
// (same id) to the next leader. A frame that does not parse closes the
// connection.
const (
	// maxForwardFrame bounds a request or reply: a command carries at
	// most a few values of proto-max-bulk-len (512MB by default).
	maxForwardFrame = 1 << 31
)

// ForwardResult is how a forwarded command ended on the node asked.
type ForwardResult byte

// Forward results, as the response's status byte carries them.
const (
	// ForwardReplied: the reply is the command's reply.
	ForwardReplied ForwardResult = 0
	// ForwardNotLeader: this node does not lead; nothing was applied.
	ForwardNotLeader ForwardResult = 1
	// ForwardLost: leadership was lost with the command's write in
	// flight; it may have been applied. The same request id may be sent
	// to the next leader, which applies it at most once.
	ForwardLost ForwardResult = 2
)

// ForwardHandler runs forwarded commands (op.Forward ops, one or a
// client's pipeline) on the leader, in order, and returns their replies'
// bytes, which only ForwardReplied carries.
type ForwardHandler func(reqs []op.Op) (reply []byte, res ForwardResult)

// errFrame is a forwarding frame that does not parse.
var errFrame = errors.New("forward: bad frame")

// SetForwardHandler sets what runs the commands followers forward to this
// node for this group. Until it is set, the group's forwarding
// connections are closed at once.
func (n *Node) SetForwardHandler(h ForwardHandler) {
	var run ForwardHandler = func(reqs []op.Op) ([]byte, ForwardResult) {
		if reqs[0].Type == op.ReadIndex { // alone in its request (decodeForwards)
			return n.serveReadIndex()
		}
		return h(reqs)
	}
	n.fwdHandler.Store(&run)
	n.mux.setForward(n.host.serveForward)
}

// serveForward answers the requests of one forwarding connection; each
// runs in its own goroutine, so a slow command does not hold up the rest
// and concurrent writes share Raft's batches.
func (n *Node) serveForward(nc net.Conn) {
	var wg sync.WaitGroup
	defer wg.Wait()
	defer nc.Close()
	hp := n.fwdHandler.Load()
	if hp == nil {
		return
	}
	h := *hp
	br := bufio.NewReaderSize(nc, 16*1024)
	var wmu sync.Mutex
	bw := bufio.NewWriterSize(nc, 16*1024)
	for {
		id, data, err := readFrame(br)
		if err != nil {
			return
		}
		reqs, err := decodeForwards(data)
		if err != nil {
			return
		}
		if reqs[0].Type == op.ReadIndex && wmu.TryLock() {
			// Answered here when it needs no wait, unless a reply is
			// being written.
			reply, ok := n.readIndexAtOnce()
			if ok && (writeResponse(bw, id, ForwardReplied, reply) != nil || bw.Flush() != nil) {
				wmu.Unlock()
				return
			}
			wmu.Unlock()
			if ok {
				continue
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			reply, res := h(reqs)
			if res != ForwardReplied {
				reply = nil
			}
			wmu.Lock()
			defer wmu.Unlock()
			if writeResponse(bw, id, res, reply) != nil || bw.Flush() != nil {
				nc.Close() // the reader sees it and ends
			}
		}()
	}
}

// decodeForwards decodes a request's payload: one op.Forward op or a
// batch of them. The ops alias data.
func decodeForwards(data []byte) ([]op.Op, error) {
	encs := [][]byte{data}
	if op.IsBatch(data) {
		var err error
		if encs, err = op.SplitBatch(data); err != nil {
			return nil, err
		}
	}
	reqs := make([]op.Op, len(encs))
	for i, enc := range encs {
		if err := op.Decode(enc, &reqs[i]); err != nil {
			return nil, err
		}
		if reqs[i].Type != op.Forward && (reqs[i].Type != op.ReadIndex || len(encs) > 1) {
			return nil, fmt.Errorf("%w: op type %d", errFrame, reqs[i].Type)
		}
	}
	return reqs, nil
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
	// The length is allocated at once: the peer is a node of the
	// cluster (the connection is authenticated), whose requests are
	// bounded by its clients' proto-max-bulk-len. Growing a 200 MB
	// payload as it arrived copied it (and touched fresh memory, which is
	// what costs) twice over.
	b := make([]byte, n)
	_, err = io.ReadFull(r, b)
	return b, err
}

// writeRequest writes a request frame whose payload is the concatenation
// of parts, size bytes. A large part goes straight to the connection,
// not through w's buffer.
func writeRequest(w *bufio.Writer, id uint64, parts [][]byte, size int) error {
	var hdr [2 * binary.MaxVarintLen64]byte
	h := binary.AppendUvarint(hdr[:0], id)
	h = binary.AppendUvarint(h, uint64(size))
	_, err := w.Write(h)
	for _, p := range parts {
		if err != nil {
			break
		}
		_, err = w.Write(p)
	}
	return err
}

func writeResponse(w *bufio.Writer, id uint64, res ForwardResult, reply []byte) error {
	var hdr [2*binary.MaxVarintLen64 + 1]byte
	h := binary.AppendUvarint(hdr[:0], id)
	h = append(h, byte(res))
	h = binary.AppendUvarint(h, uint64(len(reply)))
	w.Write(h)
	_, err := w.Write(reply)
	return err
}

// readResponse reads a response frame.
func readResponse(r *bufio.Reader) (id uint64, res ForwardResult, reply []byte, err error) {
	if id, err = binary.ReadUvarint(r); err != nil {
		return 0, 0, nil, err
	}
	status, err := r.ReadByte()
	if err != nil {
		return 0, 0, nil, err
	}
	if res = ForwardResult(status); res > ForwardLost {
		return 0, 0, nil, fmt.Errorf("%w: status %d", errFrame, status)
	}
	reply, err = readPayload(r)
	return id, res, reply, err
}
