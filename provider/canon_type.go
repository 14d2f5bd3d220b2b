package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// canon describes a kind of string that the API writes in a canonical form
// (sizes, durations): how to check a value and when two spellings are the
// same.
type canon struct {
	summary string
	check   func(string) error
	same    func(a, b string) bool
}

var canons = map[string]canon{
	"size": {
		summary: "Invalid Size",
		check:   func(s string) error { _, err := api.ParseSize(s); return err },
		same:    api.SameSize,
	},
	"duration": {
		summary: "Invalid Duration",
		check: func(s string) error {
			if _, err := time.ParseDuration(s); err != nil {
				return fmt.Errorf("%q is not a duration such as \"30s\", \"5m\" or \"1h30m\"", s)
			}
			return nil
		},
		same: api.SameDuration,
	},
}

// canonType is a string with a canonical form. Two spellings of one value
// are semantically equal, so the API's canonical form never shows up as a
// diff against what the user wrote.
type canonType struct {
	basetypes.StringType
	kind string
}

var (
	sizeType     = canonType{kind: "size"}
	durationType = canonType{kind: "duration"}
)

var (
	_ basetypes.StringTypable                    = canonType{}
	_ basetypes.StringValuableWithSemanticEquals = canonValue{}
	_ xattr.ValidateableAttribute                = canonValue{}
)

func (t canonType) Equal(o attr.Type) bool {
	other, ok := o.(canonType)
	return ok && t.kind == other.kind && t.StringType.Equal(other.StringType)
}

func (t canonType) String() string { return t.kind + "Type" }

func (t canonType) ValueFromString(_ context.Context, in basetypes.StringValue) (basetypes.StringValuable, diag.Diagnostics) {
	return canonValue{StringValue: in, kind: t.kind}, nil
}

func (t canonType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
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
		return nil, fmt.Errorf("converting StringValue to %s: %v", t, diags)
	}
	return sv, nil
}

func (t canonType) ValueType(context.Context) attr.Value { return canonValue{kind: t.kind} }

// canonValue is a value of a canonType.
type canonValue struct {
	basetypes.StringValue
	kind string
}

func newSize(s string) canonValue {
	return canonValue{StringValue: basetypes.NewStringValue(s), kind: "size"}
}

func newDuration(s string) canonValue {
	if s == "" {
		return canonValue{StringValue: basetypes.NewStringNull(), kind: "duration"}
	}
	return canonValue{StringValue: basetypes.NewStringValue(s), kind: "duration"}
}

func (v canonValue) Equal(o attr.Value) bool {
	other, ok := o.(canonValue)
	return ok && v.kind == other.kind && v.StringValue.Equal(other.StringValue)
}

func (v canonValue) Type(context.Context) attr.Type { return canonType{kind: v.kind} }

// StringSemanticEquals reports whether both spell the same value.
func (v canonValue) StringSemanticEquals(_ context.Context, nv basetypes.StringValuable) (bool, diag.Diagnostics) {
	var diags diag.Diagnostics
	other, ok := nv.(canonValue)
	if !ok || other.kind != v.kind {
		diags.AddError("Semantic Equality Check Error", fmt.Sprintf("expected a %s value, got %T", v.kind, nv))
		return false, diags
	}
	return canons[v.kind].same(v.ValueString(), other.ValueString()), diags
}

// ValidateAttribute checks the value at plan time with the API's own parser.
func (v canonValue) ValidateAttribute(_ context.Context, req xattr.ValidateAttributeRequest, resp *xattr.ValidateAttributeResponse) {
	if v.IsNull() || v.IsUnknown() {
		return
	}
	c := canons[v.kind]
	if err := c.check(v.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, c.summary, err.Error())
	}
}
