package api

import (
	"fmt"
	"regexp"
	"time"
)

// Backup phases, in BackupStatus.Phase.
const (
	BackupPending  = "pending"  // waiting for the cluster's primary to start it
	BackupRunning  = "running"  // the primary is exporting and uploading
	BackupComplete = "complete" // the manifest is uploaded: the backup exists
	BackupFailed   = "failed"   // Error says why; no manifest was written
)

// BackupCreate is the body of POST /v1/clusters/{cluster}/backups.
type BackupCreate struct {
	Labels map[string]string `json:"labels,omitempty"`
}

// BackupStatus is how far a backup got.
type BackupStatus struct {
	Phase string `json:"phase"`
	// Node is the node that takes the backup.
	Node string `json:"node,omitempty"`
	// StorageURL is the storage the backup was written to.
	StorageURL string `json:"storage_url,omitempty"`
	BytesDone  int64  `json:"bytes_done"`
	BytesTotal int64  `json:"bytes_total"`
	// Size, Tables, Location and ManifestSHA256 are set when complete.
	Size           int64      `json:"size"`
	Tables         int        `json:"tables"`
	Location       string     `json:"location,omitempty"`
	ManifestSHA256 string     `json:"manifest_sha256,omitempty"`
	Error          string     `json:"error,omitempty"`
	CompletedAt    *time.Time `json:"completed_at,omitempty"`
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
	return v.err()
}

// BackupJob is what the control plane asks a node to do
// (POST /v1/backups on the agent, signed).
type BackupJob struct {
	ID            string `json:"id"`
	Cluster       string `json:"cluster"`
	StorageURL    string `json:"storage_url"`
	StoragePrefix string `json:"storage_prefix"`
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
