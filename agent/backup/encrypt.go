package backup

import (
	"bufio"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"gocloud.dev/secrets"
	_ "gocloud.dev/secrets/localsecrets" // base64key://
)

// Envelope encryption: every backup has its own random 256-bit data key,
// kept in the manifest wrapped by the keeper (gocloud.dev/secrets). Each
// object is AES-256-GCM in chunks of chunkSize bytes: a 4-byte length, then
// the sealed chunk; the nonce is the chunk's number, and the associated
// data binds the object's name and whether the chunk is the last, so that
// chunks cannot be moved, dropped or cut.

// EncryptionEnvelope names the scheme in the manifest.
const EncryptionEnvelope = "aes-256-gcm-envelope"

const chunkSize = 1 << 20

// ErrNoKey is a restore of an encrypted backup without a keeper.
var ErrNoKey = errors.New("the backup is encrypted: give the keeper URL (encryption key) it was taken with")

// keeperFor opens a gocloud.dev secrets keeper.
func keeperFor(ctx context.Context, url string) (*secrets.Keeper, error) {
	k, err := secrets.OpenKeeper(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("open the encryption keeper: %w", errors.New(scrub(err.Error(), url)))
	}
	return k, nil
}

// scrub removes a keeper URL (which may hold the key) from a message.
func scrub(msg, url string) string {
	if url == "" {
		return msg
	}
	return strings.ReplaceAll(msg, url, "<keeper URL>")
}

// newDataKey makes a data key and wraps it with the keeper.
func newDataKey(ctx context.Context, k *secrets.Keeper) (key []byte, wrapped string, err error) {
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, "", err
	}
	w, err := k.Encrypt(ctx, key)
	if err != nil {
		return nil, "", fmt.Errorf("wrap the data key: %w", err)
	}
	return key, base64.StdEncoding.EncodeToString(w), nil
}

// unwrapKey recovers a backup's data key.
func unwrapKey(ctx context.Context, k *secrets.Keeper, wrapped, id string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(wrapped)
	if err != nil {
		return nil, fmt.Errorf("the manifest of backup %s holds no valid wrapped key", id)
	}
	key, err := k.Decrypt(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("the encryption key cannot decrypt backup %s (a different key than the backup was taken with?): %w", id, err)
	}
	return key, nil
}

func aead(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func chunkAD(name string, n uint64, last bool) []byte {
	ad := make([]byte, 0, len(name)+10)
	ad = append(ad, name...)
	ad = binary.BigEndian.AppendUint64(ad, n)
	if last {
		return append(ad, 1)
	}
	return append(ad, 0)
}

func nonce(g cipher.AEAD, n uint64) []byte {
	b := make([]byte, g.NonceSize())
	binary.BigEndian.PutUint64(b[len(b)-8:], n)
	return b
}

// encryptStream copies r to w encrypted with key, in chunks.
func encryptStream(w io.Writer, r io.Reader, key []byte, name string) error {
	g, err := aead(key)
	if err != nil {
		return err
	}
	buf := make([]byte, chunkSize)
	next := make([]byte, chunkSize)
	out := make([]byte, 4, 4+chunkSize+g.Overhead())
	n, err := io.ReadFull(r, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return err
	}
	for i := uint64(0); ; i++ {
		m, rerr := io.ReadFull(r, next)
		if rerr != nil && !errors.Is(rerr, io.ErrUnexpectedEOF) && !errors.Is(rerr, io.EOF) {
			return rerr
		}
		last := m == 0
		// One write per chunk: its length, then the sealed chunk.
		out = g.Seal(out[:4], nonce(g, i), buf[:n], chunkAD(name, i, last))
		binary.BigEndian.PutUint32(out, uint32(len(out)-4))
		if _, err := w.Write(out); err != nil {
			return err
		}
		if last {
			return nil
		}
		buf, next, n = next, buf, m
	}
}

// decryptStream copies r to w decrypted with key; it fails on any change,
// reordering or truncation.
func decryptStream(w io.Writer, r io.Reader, key []byte, name string) error {
	g, err := aead(key)
	if err != nil {
		return err
	}
	br := bufio.NewReaderSize(r, 64<<10)
	for i := uint64(0); ; i++ {
		var hdr [4]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return fmt.Errorf("object %s is cut short", name)
		}
		size := binary.BigEndian.Uint32(hdr[:])
		if size > chunkSize+uint32(g.Overhead()) {
			return fmt.Errorf("object %s is not an encrypted backup object", name)
		}
		sealed := make([]byte, size)
		if _, err := io.ReadFull(br, sealed); err != nil {
			return fmt.Errorf("object %s is cut short", name)
		}
		_, perr := br.Peek(1)
		last := errors.Is(perr, io.EOF)
		plain, err := g.Open(nil, nonce(g, i), sealed, chunkAD(name, i, last))
		if err != nil {
			return fmt.Errorf("object %s does not decrypt with this backup's key", name)
		}
		if _, err := w.Write(plain); err != nil {
			return err
		}
		if last {
			return nil
		}
	}
}
