// Package provider is the duckfleet Terraform provider, built on
// terraform-plugin-framework. It talks to the control plane through
// internal/client only; nothing here links DuckDB.
package provider

import (
	"context"
	"net/http"
	"os"

	"github.com/duckfleet/duckfleet/internal/client"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

var (
	_ provider.Provider                       = (*duckfleetProvider)(nil)
	_ provider.ProviderWithEphemeralResources = (*duckfleetProvider)(nil)
)

// Env vars read when the provider block leaves a setting out.
const (
	EnvEndpoint = "DUCKFLEET_ENDPOINT"
	EnvToken    = "DUCKFLEET_TOKEN"
)

type duckfleetProvider struct {
	version string
}

type providerModel struct {
	Endpoint types.String `tfsdk:"endpoint"`
	Token    types.String `tfsdk:"token"`
}

// New returns a constructor of the provider at version.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &duckfleetProvider{version: version} }
}

func (p *duckfleetProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "duckfleet"
	resp.Version = p.version
}

func (p *duckfleetProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Declares fleets of DuckDB nodes run by a duckfleet control plane.",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				MarkdownDescription: "URL of the duckfleet control plane, such as `http://127.0.0.1:8470`. Defaults to the `" + EnvEndpoint + "` environment variable.",
				Optional:            true,
			},
			"token": schema.StringAttribute{
				MarkdownDescription: "Admin token of the control plane (its data dir's `admin.token` on first start). Defaults to the `" + EnvToken + "` environment variable.",
				Optional:            true,
				Sensitive:           true,
			},
		},
	}
}

func (p *duckfleetProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if cfg.Endpoint.IsUnknown() || cfg.Token.IsUnknown() {
		// Known only after another resource is applied; resources will
		// report the missing client if they are reached before that.
		return
	}
	endpoint := valueOrEnv(cfg.Endpoint, EnvEndpoint)
	tok := valueOrEnv(cfg.Token, EnvToken)
	if endpoint == "" {
		resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Missing duckfleet Endpoint",
			"Set endpoint in the provider block or the "+EnvEndpoint+" environment variable to the control plane's URL, such as http://127.0.0.1:8470.")
	}
	if tok == "" {
		resp.Diagnostics.AddAttributeError(path.Root("token"), "Missing duckfleet Token",
			"Set token in the provider block or the "+EnvToken+" environment variable to the control plane's admin token (the admin.token file in its data dir).")
	}
	if resp.Diagnostics.HasError() {
		return
	}
	c, err := client.New(endpoint, tok, client.WithUserAgent("terraform-provider-duckfleet/"+p.version))
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Invalid duckfleet Endpoint", err.Error())
		return
	}
	if _, err := c.WhoAmI(ctx); err != nil {
		switch client.StatusCode(err) {
		case 0:
			resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Unable to Reach the duckfleet Control Plane",
				"Check that the control plane is running and that endpoint is right.\n\n"+err.Error())
		case http.StatusUnauthorized, http.StatusForbidden:
			resp.Diagnostics.AddAttributeError(path.Root("token"), "Invalid duckfleet Token",
				"The control plane at "+endpoint+" refused the token: use its admin token (admin.token in its data dir, or DUCKFLEET_ADMIN_TOKEN as it was started).")
		default:
			resp.Diagnostics.AddError("Unable to Check the duckfleet Token", err.Error())
		}
		return
	}
	tflog.Debug(ctx, "configured duckfleet client", map[string]any{"endpoint": endpoint})
	resp.DataSourceData = c
	resp.ResourceData = c
	resp.EphemeralResourceData = c
}

func valueOrEnv(v types.String, env string) string {
	if !v.IsNull() && v.ValueString() != "" {
		return v.ValueString()
	}
	return os.Getenv(env)
}

func (p *duckfleetProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		newClusterResource,
		newRoleResource,
		newUserResource,
		newBackupResource,
		newBackupPolicyResource,
	}
}

func (p *duckfleetProvider) EphemeralResources(context.Context) []func() ephemeral.EphemeralResource {
	return []func() ephemeral.EphemeralResource{
		newQueryTokenEphemeral,
	}
}

func (p *duckfleetProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		newClusterDataSource,
		newNodesDataSource,
		newBackupsDataSource,
	}
}

// clientFrom turns provider data into the API client, or reports why not.
func clientFrom(data any, add func(summary, detail string)) *client.Client {
	if data == nil {
		return nil
	}
	c, ok := data.(*client.Client)
	if !ok {
		add("Unexpected Configure Type", "Expected *client.Client, got something else; this is a bug in the provider.")
		return nil
	}
	return c
}
