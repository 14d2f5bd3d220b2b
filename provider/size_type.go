package provider

import (
	"context"
	"fmt"

	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// sizeType is a string holding a size such as "512MiB" or "4gb". Two
// spellings of one number of bytes are semantically equal, so the API's
// canonical form never shows up as a diff against what the user wrote.
type sizeType struct {
	basetypes.StringType
}

var (
	_ basetypes.StringTypable                    = sizeType{}
	_ basetypes.StringValuableWithSemanticEquals = sizeValue{}
	_ xattr.ValidateableAttribute                = sizeValue{}
)

func (t sizeType) Equal(o attr.Type) bool {
	other, ok := o.(sizeType)
	return ok && t.StringType.Equal(other.StringType)
}

func (t sizeType) String() string { return "sizeType" }

func (t sizeType) ValueFromString(_ context.Context, in basetypes.StringValue) (basetypes.StringValuable, diag.Diagnostics) {
	return sizeValue{StringValue: in}, nil
}

func (t sizeType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	v, err := t.StringType.ValueFromTerraform(ctx, in)
	if err != nil {
		return nil, err
	}
	s, ok := v.(basetypes.StringValue)
	if !ok {
		return nil, fmt.Errorf("unexpected value type %T", v)
	}
	sv, diags := t.ValueFromString(ctx, s)
	if diags.HasError() {
		return nil, fmt.Errorf("converting StringValue to sizeValue: %v", diags)
	}
	return sv, nil
}

func (t sizeType) ValueType(context.Context) attr.Value { return sizeValue{} }

// sizeValue is a value of sizeType.
type sizeValue struct {
	basetypes.StringValue
}

func newSize(s string) sizeValue { return sizeValue{StringValue: basetypes.NewStringValue(s)} }

func (v sizeValue) Equal(o attr.Value) bool {
	other, ok := o.(sizeValue)
	return ok && v.StringValue.Equal(other.StringValue)
}

func (v sizeValue) Type(context.Context) attr.Type { return sizeType{} }

// StringSemanticEquals reports whether both spell the same number of bytes.
func (v sizeValue) StringSemanticEquals(_ context.Context, nv basetypes.StringValuable) (bool, diag.Diagnostics) {
	var diags diag.Diagnostics
	other, ok := nv.(sizeValue)
	if !ok {
		diags.AddError("Semantic Equality Check Error", fmt.Sprintf("expected a size value, got %T", nv))
		return false, diags
	}
	return api.SameSize(v.ValueString(), other.ValueString()), diags
}

// ValidateAttribute checks the size at plan time with the API's own parser.
func (v sizeValue) ValidateAttribute(_ context.Context, req xattr.ValidateAttributeRequest, resp *xattr.ValidateAttributeResponse) {
	if v.IsNull() || v.IsUnknown() {
		return
	}
	if _, err := api.ParseSize(v.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Size", err.Error())
	}
}
