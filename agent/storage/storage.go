// Package storage opens a node's cloud storage through gocloud.dev/blob:
// file:// (the embedded default), s3://, gs:// and azblob://, with
// credentials taken from the agent's environment, never from its config.
//
// A file:// bucket is opened, unless its URL says otherwise, with
// no_tmp_dir (objects are written beside their final name and renamed,
// so the bucket may be on another file system than the temp dir) and
// metadata=skip (no .attrs sidecar files, which would cost an MD5 of every
// object; backups carry SHA-256 checksums of their own).
package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/azureblob" // azblob://
	_ "gocloud.dev/blob/fileblob"  // file://
	_ "gocloud.dev/blob/gcsblob"   // gs://
	_ "gocloud.dev/blob/s3blob"    // s3://
)

// Schemes lists the storage URL schemes the agent supports.
var Schemes = []string{"file", "s3", "gs", "azblob"}

// Validate checks a storage URL without opening it.
func Validate(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("storage URL %q does not parse: %w", Redact(raw), err)
	}
	for _, s := range Schemes {
		if u.Scheme == s {
			if u.User != nil {
				return fmt.Errorf("storage URL %q carries credentials: give them to the agent through its environment instead", Redact(raw))
			}
			return nil
		}
	}
	return fmt.Errorf("storage URL %q has scheme %q: use one of %s", Redact(raw), u.Scheme, strings.Join(Schemes, ", "))
}

// Redact removes user info and query values that could be secrets.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable URL>"
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	q := u.Query()
	for k := range q {
		if lk := strings.ToLower(k); strings.Contains(lk, "secret") || strings.Contains(lk, "key") || strings.Contains(lk, "token") || strings.Contains(lk, "password") {
			q.Set(k, "REDACTED")
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Open opens the bucket at raw.
func Open(ctx context.Context, raw string) (*blob.Bucket, error) {
	if err := Validate(raw); err != nil {
		return nil, err
	}
	b, err := blob.OpenBucket(ctx, withFileDefaults(raw))
	if err != nil {
		return nil, fmt.Errorf("open storage %s: %w", Redact(raw), err)
	}
	return b, nil
}

// fileDefaults are the fileblob options Open sets unless the URL has them.
var fileDefaults = map[string]string{"no_tmp_dir": "true", "metadata": "skip"}

func withFileDefaults(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "file" {
		return raw
	}
	q := u.Query()
	for k, v := range fileDefaults {
		if !q.Has(k) {
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Presence is what a node writes to nodes/<id>/agent.json on start, which
// proves the storage is writable before any backup depends on it.
type Presence struct {
	NodeID    string    `json:"node_id"`
	Pool      string    `json:"pool"`
	Endpoint  string    `json:"endpoint"`
	StartedAt time.Time `json:"started_at"`
}

// WritePresence writes p and reads it back.
func WritePresence(ctx context.Context, b *blob.Bucket, p Presence) error {
	key := "nodes/" + p.NodeID + "/agent.json"
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if err := b.WriteAll(ctx, key, data, &blob.WriterOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	got, err := b.ReadAll(ctx, key)
	if err != nil {
		return fmt.Errorf("read back %s: %w", key, err)
	}
	if string(got) != string(data) {
		return fmt.Errorf("read back %s: content differs from what was written", key)
	}
	return nil
}
