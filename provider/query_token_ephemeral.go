package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/client"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ ephemeral.EphemeralResourceWithConfigure = (*queryTokenEphemeral)(nil)

type queryTokenEphemeral struct {
	client *client.Client
}

type queryTokenModel struct {
	Cluster   types.String `tfsdk:"cluster"`
	User      types.String `tfsdk:"user"`
	TTL       canonValue   `tfsdk:"ttl"`
	Token     types.String `tfsdk:"token"`
	ExpiresAt types.String `tfsdk:"expires_at"`
}

func newQueryTokenEphemeral() ephemeral.EphemeralResource { return &queryTokenEphemeral{} }

func (e *queryTokenEphemeral) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_query_token"
}

func (e *queryTokenEphemeral) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A short-lived token to query a cluster's nodes as one of its users, so that a pipeline never keeps a " +
			"long-lived secret in state. The control plane signs it; the nodes check the signature, the expiry and that the user " +
			"still exists (deleting the user revokes its short-lived tokens). Needs Terraform 1.10 or later.",
		Attributes: map[string]schema.Attribute{
			"cluster": schema.StringAttribute{MarkdownDescription: "Name of the cluster.", Required: true, Validators: []validator.String{nameValidator{}}},
			"user":    schema.StringAttribute{MarkdownDescription: "Name of the user the token acts as; it has that user's roles.", Required: true, Validators: []validator.String{nameValidator{}}},
			"ttl": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("How long the token is good for, from %s to %s. Defaults to `%s`.",
					api.FormatDuration(api.MinQueryTokenTTL), api.FormatDuration(api.MaxQueryTokenTTL), api.FormatDuration(api.DefaultQueryTokenTTL)),
				Optional: true, CustomType: durationType,
			},
			"token":      schema.StringAttribute{MarkdownDescription: "The bearer token.", Computed: true, Sensitive: true},
			"expires_at": schema.StringAttribute{MarkdownDescription: "When the token stops working (RFC 3339).", Computed: true},
		},
	}
}

func (e *queryTokenEphemeral) Configure(_ context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	e.client = clientFrom(req.ProviderData, resp.Diagnostics.AddError)
}

func (e *queryTokenEphemeral) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	var m queryTokenModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !haveClient(e.client, &resp.Diagnostics) {
		return
	}
	tok, err := e.client.IssueQueryToken(ctx, m.Cluster.ValueString(), m.User.ValueString(), api.QueryTokenRequest{TTL: m.TTL.ValueString()})
	if err != nil {
		resp.Diagnostics.AddError("Unable to Issue Query Token", apiDetail(err))
		return
	}
	m.Token = types.StringValue(tok.Token)
	m.ExpiresAt = types.StringValue(tok.ExpiresAt.UTC().Format(time.RFC3339))
	resp.Diagnostics.Append(resp.Result.Set(ctx, &m)...)
}
