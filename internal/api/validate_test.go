package api

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestClusterCreateNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      ClusterCreate
		want    ClusterSpec
		wantErr []FieldError
	}{
		{
			name: "defaults",
			in:   ClusterCreate{Name: "analytics"},
			want: ClusterSpec{Pool: DefaultPool, MemoryLimit: DefaultMemoryLimit, Threads: DefaultThreads},
		},
		{
			name: "canonical size",
			in:   ClusterCreate{Name: "a1", Spec: ClusterSpec{Pool: "gpu", MemoryLimit: "0.5gib", Threads: 4, Replicas: 2}},
			want: ClusterSpec{Pool: "gpu", MemoryLimit: "512MiB", Threads: 4, Replicas: 2},
		},
		{
			name:    "bad name",
			in:      ClusterCreate{Name: "Bad_Name"},
			wantErr: []FieldError{{"name", `"Bad_Name" is not a valid name: use ` + NameRule}},
		},
		{
			name:    "missing name",
			in:      ClusterCreate{},
			wantErr: []FieldError{{"name", "is required"}},
		},
		{
			name: "every bad field",
			in:   ClusterCreate{Name: "ok", Spec: ClusterSpec{Pool: "-x", MemoryLimit: "lots", Threads: -1, Replicas: -2}},
			wantErr: []FieldError{
				{"spec.pool", `"-x" is not a valid name: use ` + NameRule},
				{"spec.replicas", "-2 is out of range: use 0 to 64"},
				{"spec.memory_limit", `"lots" is not a size: write a number followed by a unit, such as "512MiB" or "4GB"`},
				{"spec.threads", "-1 is out of range: use 1 to 1024"},
			},
		},
		{
			name:    "storage URL",
			in:      ClusterCreate{Name: "ok", Spec: ClusterSpec{StorageURL: "ftp://x", MemoryLimit: "1GiB"}},
			wantErr: []FieldError{{"spec.storage_url", `scheme "ftp" is not supported: use file, s3, gs, azblob`}},
		},
		{
			name:    "storage URL with credentials",
			in:      ClusterCreate{Name: "ok", Spec: ClusterSpec{StorageURL: "s3://key:secret@bucket"}},
			wantErr: []FieldError{{"spec.storage_url", "must not carry credentials: give them to the agents through their environment"}},
		},
		{
			name:    "memory below minimum",
			in:      ClusterCreate{Name: "ok", Spec: ClusterSpec{MemoryLimit: "1MB"}},
			wantErr: []FieldError{{"spec.memory_limit", `"1MB" is below the minimum of 16MiB`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.in
			err := c.Normalize()
			if tt.wantErr != nil {
				var ve *ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("Normalize() = %v, want a *ValidationError", err)
				}
				if d := cmp.Diff(tt.wantErr, ve.Errors); d != "" {
					t.Errorf("field errors (-want +got):\n%s", d)
				}
				return
			}
			if err != nil {
				t.Fatalf("Normalize(): %v", err)
			}
			if d := cmp.Diff(tt.want, c.Spec); d != "" {
				t.Errorf("spec (-want +got):\n%s", d)
			}
		})
	}
}

func TestRevisionNewer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b Revision
		want bool
	}{
		{Revision{1, 2, 0}, Revision{1, 1, 5}, true},
		{Revision{1, 1, 1}, Revision{1, 1, 1}, false},
		{Revision{2, 1, 0}, Revision{1, 9, 9}, true},
		{Revision{1, 9, 0}, Revision{2, 1, 0}, false},
		{Revision{1, 1, 2}, Revision{1, 1, 1}, true},
	}
	for _, tt := range tests {
		if got := tt.a.Newer(tt.b); got != tt.want {
			t.Errorf("%v.Newer(%v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestRoleSpecNormalize(t *testing.T) {
	t.Parallel()
	s := RoleSpec{Privileges: []string{"select", "Insert", "SELECT"}, QueryTimeout: "90s"}
	if err := s.Normalize("spec."); err != nil {
		t.Fatal(err)
	}
	want := RoleSpec{Privileges: []string{"INSERT", "SELECT"}, QueryTimeout: "90s"}
	if d := cmp.Diff(want, s); d != "" {
		t.Errorf("canonical role (-want +got):\n%s", d)
	}
	s = RoleSpec{Privileges: []string{"SELECT"}, QueryTimeout: "120s"}
	_ = s.Normalize("")
	if s.QueryTimeout != "2m" {
		t.Errorf("120s became %q, want 2m", s.QueryTimeout)
	}
	bad := RoleSpec{Privileges: []string{"SELECT", "ATTACH"}, QueryTimeout: "soon", MaxResultRows: -1}
	var ve *ValidationError
	if err := bad.Normalize("spec."); !errors.As(err, &ve) || len(ve.Errors) != 3 || ve.Errors[0].Field != "spec.privileges[1]" {
		t.Errorf("bad role: %v", err)
	}
}

func TestBackupFormats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      BackupPolicySpec
		want    BackupPolicySpec
		wantErr []FieldError
	}{
		{
			name: "parquet by default, zstd",
			in:   BackupPolicySpec{Schedule: "@daily", KeepLast: 2},
			want: BackupPolicySpec{Schedule: "@daily", KeepLast: 2, Format: FormatParquet, Compression: "zstd"},
		},
		{
			name: "duckdb has no codec",
			in:   BackupPolicySpec{Schedule: "@daily", KeepLast: 2, Format: FormatDuckDB},
			want: BackupPolicySpec{Schedule: "@daily", KeepLast: 2, Format: FormatDuckDB},
		},
		{
			name:    "duckdb with a codec",
			in:      BackupPolicySpec{Schedule: "@daily", KeepLast: 2, Format: FormatDuckDB, Compression: "zstd"},
			wantErr: []FieldError{{"spec.compression", "applies to parquet backups only: a duckdb backup is the database file, which DuckDB compresses itself; leave compression unset"}},
		},
		{
			name:    "unknown format",
			in:      BackupPolicySpec{Schedule: "@daily", KeepLast: 2, Format: "csv"},
			wantErr: []FieldError{{"spec.format", `"csv" is not a backup format: use parquet or duckdb`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tt.in
			err := s.Normalize("spec.")
			var ve *ValidationError
			if tt.wantErr != nil {
				if !errors.As(err, &ve) {
					t.Fatalf("Normalize() = %v, want field errors", err)
				}
				if d := cmp.Diff(tt.wantErr, ve.Errors); d != "" {
					t.Errorf("field errors (-want +got):\n%s", d)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, s); d != "" {
				t.Errorf("spec (-want +got):\n%s", d)
			}
		})
	}
	b := BackupCreate{Format: "tar"}
	if err := b.Normalize(); !errors.As(err, new(*ValidationError)) || !strings.Contains(err.Error(), "format") {
		t.Errorf("BackupCreate with format tar: %v", err)
	}
	b = BackupCreate{}
	if err := b.Normalize(); err != nil || b.Format != FormatParquet {
		t.Errorf("BackupCreate default: %v, format %q", err, b.Format)
	}
}
