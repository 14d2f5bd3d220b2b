package backup

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"testing"
)

func TestAsyncHashMatchesSHA256(t *testing.T) {
	t.Parallel()
	for _, size := range []int{0, 1, hashBufSize - 1, hashBufSize, 3*hashBufSize + 17, 9 * hashBufSize} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			t.Parallel()
			data := make([]byte, size)
			if _, err := rand.Read(data); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(data)
			want := hex.EncodeToString(sum[:])

			var out bytes.Buffer
			w := hashingWriter{w: &out, asyncHash: newAsyncHash()}
			if _, err := io.CopyBuffer(w, bytes.NewReader(data), make([]byte, 100_000)); err != nil {
				t.Fatal(err)
			}
			if got := w.Sum(); got != want || w.n != int64(size) || !bytes.Equal(out.Bytes(), data) {
				t.Errorf("writer: %s over %d bytes, want %s over %d", got, w.n, want, size)
			}

			r := hashingReader{r: bytes.NewReader(data), asyncHash: newAsyncHash()}
			if _, err := io.Copy(io.Discard, r); err != nil {
				t.Fatal(err)
			}
			if got := r.Sum(); got != want || r.Sum() != want {
				t.Errorf("reader: %s, want %s", got, want)
			}
		})
	}
}
