package api

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Backup phases, in BackupStatus.Phase.
const (
	BackupPending  = "pending"  // waiting for the cluster's primary to start it
	BackupRunning  = "running"  // the primary is exporting and uploading
	BackupComplete = "complete" // the manifest is uploaded: the backup exists
	BackupFailed   = "failed"   // Error says why; no manifest was written
)

// Backup formats, in BackupCreate.Format, BackupPolicySpec.Format and
// BackupStatus.Format.
const (
	// FormatParquet is one Parquet file per table plus the schema: portable
	// (any Parquet reader can open a backup), but DuckDB spends CPU on
	// encoding it and, on restore, on loading and compressing it again.
	FormatParquet = "parquet"
	// FormatDuckDB is a consistent copy of the database file itself: backup
	// and restore move bytes at close to disk speed, but only a DuckDB of
	// the same or a newer version can read it.
	FormatDuckDB = "duckdb"
)

// Formats are the backup formats, the default first.
var Formats = []string{FormatParquet, FormatDuckDB}

// BackupCreate is the body of POST /v1/clusters/{cluster}/backups.
type BackupCreate struct {
	Labels map[string]string `json:"labels,omitempty"`
	// Format is parquet (the default) or duckdb.
	Format string `json:"format,omitempty"`
}

// BackupStatus is how far a backup got.
type BackupStatus struct {
	Phase string `json:"phase"`
	// Node is the node that takes the backup.
	Node string `json:"node,omitempty"`
	// StorageURL and StoragePrefix are where the backup was written;
	// Format is parquet or duckdb, and Compression the Parquet codec of a
	// parquet backup. An empty Format is parquet (records written before
	// formats existed).
	StorageURL    string `json:"storage_url,omitempty"`
	StoragePrefix string `json:"storage_prefix,omitempty"`
	Format        string `json:"format,omitempty"`
	Compression   string `json:"compression,omitempty"`
	BytesDone     int64  `json:"bytes_done"`
	BytesTotal    int64  `json:"bytes_total"`
	// Size, Tables, Location and ManifestSHA256 are set when complete.
	Size           int64      `json:"size"`
	Tables         int        `json:"tables"`
	Location       string     `json:"location,omitempty"`
	ManifestSHA256 string     `json:"manifest_sha256,omitempty"`
	Error          string     `json:"error,omitempty"`
	CompletedAt    *time.Time `json:"completed_at,omitempty"`
	// Cleaned says the objects a failed backup left were deleted.
	Cleaned bool `json:"cleaned,omitempty"`
	// Encrypted says the backup's objects are encrypted; SealedKey is the
	// keeper URL sealed by the control plane (stored, never served).
	Encrypted bool   `json:"encrypted,omitempty"`
	SealedKey string `json:"sealed_key,omitempty"`
}

// Backup is an on-demand backup as the API serves it.
type Backup struct {
	Cluster   string            `json:"cluster"`
	ID        string            `json:"id"`
	Labels    map[string]string `json:"labels"`
	Status    BackupStatus      `json:"status"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// BackupList is the answer of GET /v1/clusters/{cluster}/backups, newest first.
type BackupList struct {
	Items []Backup `json:"items"`
}

var labelRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]{0,62})?$`)

// Normalize validates labels: keys and values of 1 to 63 letters, digits,
// dots, dashes and underscores, at most 32 of them.
func (b *BackupCreate) Normalize() error {
	var v ValidationError
	if len(b.Labels) > 32 {
		v.add("labels", "has %d entries: at most 32", len(b.Labels))
	}
	for k, val := range b.Labels {
		if !labelRE.MatchString(k) {
			v.add("labels", "key %q is not 1 to 63 letters, digits, dots, dashes or underscores", truncate(k))
		}
		if !labelRE.MatchString(val) {
			v.add(fmt.Sprintf("labels.%s", truncate(k)), "value %q is not 1 to 63 letters, digits, dots, dashes or underscores", truncate(val))
		}
	}
	if b.Labels == nil {
		b.Labels = map[string]string{}
	}
	normalizeFormat(&v, "format", &b.Format)
	return v.err()
}

func normalizeFormat(v *ValidationError, field string, f *string) {
	if *f == "" {
		*f = FormatParquet
	}
	if !slices.Contains(Formats, *f) {
		v.add(field, "%q is not a backup format: use %s", truncate(*f), strings.Join(Formats, " or "))
	}
}

// BackupJob is what the control plane asks a node to do
// (POST /v1/backups on the agent, signed).
type BackupJob struct {
	ID            string `json:"id"`
	Cluster       string `json:"cluster"`
	StorageURL    string `json:"storage_url"`
	StoragePrefix string `json:"storage_prefix"`
	// Format is parquet or duckdb; empty means parquet.
	Format string `json:"format,omitempty"`
	// Compression is the Parquet codec; empty means zstd.
	Compression string `json:"compression,omitempty"`
	// EncryptionKeyURL, when set, is the gocloud.dev secrets keeper that
	// wraps the backup's data key. It travels only in signed calls.
	EncryptionKeyURL string `json:"encryption_key_url,omitempty"`
}

// JobStatus is a node's report of one job, in its heartbeats.
type JobStatus struct {
	ID             string `json:"id"`
	Phase          string `json:"phase"`
	BytesDone      int64  `json:"bytes_done"`
	BytesTotal     int64  `json:"bytes_total"`
	Size           int64  `json:"size"`
	Tables         int    `json:"tables"`
	Location       string `json:"location,omitempty"`
	ManifestSHA256 string `json:"manifest_sha256,omitempty"`
	Error          string `json:"error,omitempty"`
}

// Compressions are the Parquet codecs a backup may use.
var Compressions = []string{"zstd", "snappy", "gzip", "uncompressed"}

// DefaultCompression is the Parquet codec of parquet backups by default.
const DefaultCompression = "zstd"

// BackupPolicySpec is the desired state of a backup policy.
type BackupPolicySpec struct {
	// Schedule is a cron expression (5 fields, or @daily, @every 1h, ...),
	// in UTC; the control plane checks it.
	Schedule string `json:"schedule"`
	// KeepLast keeps the newest N complete backups of the policy.
	KeepLast int `json:"keep_last,omitempty"`
	// KeepWithin keeps complete backups younger than this duration.
	KeepWithin string `json:"keep_within,omitempty"`
	// Prefix puts the policy's backups under clusters/<cluster>/<prefix>/.
	Prefix string `json:"prefix,omitempty"`
	// Format is parquet (the default) or duckdb.
	Format string `json:"format"`
	// Compression is the Parquet codec of parquet backups, zstd by
	// default; duckdb backups have none (it is empty), as DuckDB's file
	// is compressed already.
	Compression string `json:"compression,omitempty"`
	// EncryptionKeyURL is a gocloud.dev secrets keeper (base64key://,
	// awskms://, gcpkms://, azurekeyvault://, hashivault://) that wraps
	// each backup's data key. Write-only: the API stores it sealed and
	// never returns it; an update without it keeps the current one.
	EncryptionKeyURL string `json:"encryption_key_url,omitempty"`
	// EncryptionKeyVersion is the client's label for the key, returned as is.
	EncryptionKeyVersion int64 `json:"encryption_key_version,omitempty"`
	// Encrypted says the policy has a key (set by the API).
	Encrypted bool `json:"encrypted"`
}

// KeeperSchemes are the secrets keepers a policy may use.
var KeeperSchemes = []string{"base64key", "awskms", "gcpkms", "azurekeyvault", "hashivault"}

// BackupPolicyStatus is how a policy has run.
type BackupPolicyStatus struct {
	LastRun     *time.Time `json:"last_run,omitempty"`
	LastSuccess *time.Time `json:"last_success,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
	LastBackup  string     `json:"last_backup,omitempty"`
	Kept        int        `json:"kept"`
}

// BackupPolicy is a policy as the API serves it.
type BackupPolicy struct {
	Cluster    string             `json:"cluster"`
	Name       string             `json:"name"`
	Spec       BackupPolicySpec   `json:"spec"`
	Status     BackupPolicyStatus `json:"status"`
	Generation int64              `json:"generation"`
	CreatedAt  time.Time          `json:"created_at"`
	UpdatedAt  time.Time          `json:"updated_at"`
}

// BackupPolicyCreate is the body of POST /v1/clusters/{cluster}/backup-policies.
type BackupPolicyCreate struct {
	Name string           `json:"name"`
	Spec BackupPolicySpec `json:"spec"`
}

// BackupPolicyUpdate is the body of PUT .../backup-policies/{name}.
type BackupPolicyUpdate struct {
	Spec BackupPolicySpec `json:"spec"`
}

// BackupPolicyList is the answer of GET .../backup-policies.
type BackupPolicyList struct {
	Items []BackupPolicy `json:"items"`
}

var prefixRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9._-]*[a-z0-9])?(/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*$`)

// Normalize validates a policy spec, except its schedule (which the
// control plane parses), and writes it in canonical form.
func (s *BackupPolicySpec) Normalize(prefix string) error {
	var v ValidationError
	if s.Schedule == "" {
		v.add(prefix+"schedule", "is required: a cron expression such as \"0 3 * * *\" or @daily")
	}
	if s.KeepLast < 0 {
		v.add(prefix+"keep_last", "%d is negative", s.KeepLast)
	}
	if s.KeepWithin != "" {
		d, err := time.ParseDuration(s.KeepWithin)
		if err != nil || d <= 0 {
			v.add(prefix+"keep_within", "%q is not a positive duration such as \"168h\"", truncate(s.KeepWithin))
		} else {
			s.KeepWithin = FormatDuration(d)
		}
	}
	if s.KeepLast == 0 && s.KeepWithin == "" && len(v.Errors) == 0 {
		v.add(prefix+"keep_last", "set keep_last or keep_within (or both): a policy must say which backups to keep")
	}
	if s.Prefix != "" && (len(s.Prefix) > 200 || !prefixRE.MatchString(s.Prefix)) {
		v.add(prefix+"prefix", "%q is not a key prefix of lower-case words separated by /", truncate(s.Prefix))
	}
	if s.EncryptionKeyURL != "" {
		scheme, rest, ok := strings.Cut(s.EncryptionKeyURL, "://")
		if !ok || rest == "" || !slices.Contains(KeeperSchemes, scheme) {
			// The value may be a key: never quote it.
			v.add(prefix+"encryption_key_url", "is not a gocloud.dev secrets keeper URL: use %s", strings.Join(KeeperSchemes, "://, ")+"://")
		}
	}
	normalizeFormat(&v, prefix+"format", &s.Format)
	switch {
	case s.Format == FormatDuckDB && s.Compression != "":
		v.add(prefix+"compression", "applies to parquet backups only: a duckdb backup is the database file, which DuckDB compresses itself; leave compression unset")
	case s.Format == FormatDuckDB:
	case s.Compression == "":
		s.Compression = DefaultCompression
	case !slices.Contains(Compressions, s.Compression):
		v.add(prefix+"compression", "%q is not one of %s", truncate(s.Compression), strings.Join(Compressions, ", "))
	}
	return v.err()
}
