package backup

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
)

// SHA-256 runs at well under disk speed on one core, so objects are hashed
// on a goroutine of their own while the bytes move: asyncHash takes copies
// of what is written or read and hashes them behind.

const (
	hashBufSize = 1 << 20
	hashBufs    = 4
)

type asyncHash struct {
	n     int64
	queue chan []byte
	free  chan []byte
	sum   chan string
	done  string
}

func newAsyncHash() *asyncHash {
	a := &asyncHash{queue: make(chan []byte, hashBufs), free: make(chan []byte, hashBufs), sum: make(chan string, 1)}
	for range hashBufs {
		a.free <- make([]byte, hashBufSize)
	}
	queue, free, sum := a.queue, a.free, a.sum
	go func() {
		h := sha256.New()
		for b := range queue {
			h.Write(b)
			free <- b[:cap(b)]
		}
		sum <- hex.EncodeToString(h.Sum(nil))
	}()
	return a
}

// add queues a copy of p for hashing.
func (a *asyncHash) add(p []byte) {
	a.n += int64(len(p))
	for len(p) > 0 {
		buf := <-a.free
		k := copy(buf, p)
		a.queue <- buf[:k]
		p = p[k:]
	}
}

// Sum waits for the hash of everything added and returns it in hex; it
// may be called more than once.
func (a *asyncHash) Sum() string {
	if a.queue != nil {
		close(a.queue)
		a.queue = nil
		a.done = <-a.sum
	}
	return a.done
}

// hashingWriter writes to w and hashes what w took.
type hashingWriter struct {
	w io.Writer
	*asyncHash
}

func (h hashingWriter) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	h.add(p[:n])
	return n, err
}

// hashingReader hashes what it reads from r.
type hashingReader struct {
	r io.Reader
	*asyncHash
}

func (h hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.add(p[:n])
	return n, err
}
