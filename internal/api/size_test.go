package api

import (
	"strings"
	"testing"
)

func TestCanonicalSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"512MiB", "512MiB"},
		{"512mib", "512MiB"},
		{"0.5GiB", "512MiB"},
		{"1024MiB", "1GiB"},
		{"4GB", "4GB"},
		{"4gb", "4GB"},
		{" 4 GB ", "4GB"},
		{"1.5GB", "1500MB"},
		{"1000MB", "1GB"},
		{"1536KiB", "1536KiB"},
		{"1073741824B", "1GiB"},
		{"1TB", "1TB"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := CanonicalSize(tt.in)
			if err != nil {
				t.Fatalf("CanonicalSize(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("CanonicalSize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseSizeRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, wantErr string
	}{
		{"", "empty size"},
		{"lots", "not a size"},
		{"-1GB", "negative"},
		{"12 parsecs", "unknown unit \"parsecs\""},
		{"4096", "no unit"},
		{"0MB", "zero"},
		{"1.2.3GB", "not a number"},
		{"0.3B", "whole number of bytes"},
		{"99999999TiB", "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			_, err := ParseSize(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseSize(%q) error = %v, want it to mention %q", tt.in, err, tt.wantErr)
			}
		})
	}
}

func TestSameSize(t *testing.T) {
	t.Parallel()
	if !SameSize("1GiB", "1024mib") {
		t.Error("1GiB and 1024mib should be the same size")
	}
	if SameSize("1GB", "1GiB") {
		t.Error("1GB and 1GiB differ")
	}
	if !SameSize("junk", "junk") || SameSize("junk", "1GB") {
		t.Error("unparsable sizes compare as strings")
	}
}
