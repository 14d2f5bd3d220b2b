package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
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

func TestKeepSizeSpelling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		state, plan, want string
	}{
		{"1GiB", "1024MiB", "1GiB"},
		{"1GiB", "2GiB", "2GiB"},
	}
	for _, tt := range tests {
		req := planmodifier.StringRequest{StateValue: types.StringValue(tt.state), PlanValue: types.StringValue(tt.plan)}
		resp := planmodifier.StringResponse{PlanValue: req.PlanValue}
		keepSizeSpelling{}.PlanModifyString(context.Background(), req, &resp)
		if resp.PlanValue.ValueString() != tt.want {
			t.Errorf("state %q, config %q: planned %q, want %q", tt.state, tt.plan, resp.PlanValue.ValueString(), tt.want)
		}
	}
}
