package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/path"
)

func TestSizeSemanticEquals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"512MiB", "512mib", true},
		{"0.5GiB", "512MiB", true},
		{"4gb", "4GB", true},
		{"1GB", "1GiB", false},
	}
	for _, tt := range tests {
		got, diags := newSize(tt.a).StringSemanticEquals(context.Background(), newSize(tt.b))
		if diags.HasError() || got != tt.want {
			t.Errorf("%q vs %q: %v %v, want %v", tt.a, tt.b, got, diags, tt.want)
		}
	}
}

func TestSizeValidate(t *testing.T) {
	t.Parallel()
	for in, wantErr := range map[string]bool{"512MiB": false, "lots": true, "-1GB": true, "12 parsecs": true} {
		var resp xattr.ValidateAttributeResponse
		newSize(in).ValidateAttribute(context.Background(), xattr.ValidateAttributeRequest{Path: path.Root("memory_limit")}, &resp)
		if resp.Diagnostics.HasError() != wantErr {
			t.Errorf("%q: diagnostics %v, want error %v", in, resp.Diagnostics, wantErr)
		}
	}
}

func TestDurationSemanticEquals(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b string
		want bool
	}{{"60s", "1m", true}, {"90m", "1h30m", true}, {"1s", "1m", false}} {
		got, _ := newDuration(tt.a).StringSemanticEquals(context.Background(), newDuration(tt.b))
		if got != tt.want {
			t.Errorf("%q vs %q: %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
	var resp xattr.ValidateAttributeResponse
	newDuration("soon").ValidateAttribute(context.Background(), xattr.ValidateAttributeRequest{Path: path.Root("query_timeout")}, &resp)
	if !resp.Diagnostics.HasError() {
		t.Error("\"soon\" passed as a duration")
	}
}
