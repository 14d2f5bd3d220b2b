package provider

import (
	"context"
	"time"

	"github.com/duckfleet/duckfleet/internal/client"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ datasource.DataSourceWithConfigure = (*nodesDataSource)(nil)

type nodesDataSource struct {
	client *client.Client
}

type nodesModel struct {
	ID    types.String `tfsdk:"id"`
	Pool  types.String `tfsdk:"pool"`
	Nodes []nodeModel  `tfsdk:"nodes"`
}

type nodeModel struct {
	ID            types.String `tfsdk:"id"`
	Pool          types.String `tfsdk:"pool"`
	Endpoint      types.String `tfsdk:"endpoint"`
	Cluster       types.String `tfsdk:"cluster"`
	Role          types.String `tfsdk:"role"`
	Healthy       types.Bool   `tfsdk:"healthy"`
	LastHeartbeat types.String `tfsdk:"last_heartbeat"`
}

func newNodesDataSource() datasource.DataSource { return &nodesDataSource{} }

func (d *nodesDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_nodes"
}

func (d *nodesDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Computed: true}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the registered agents (nodes), optionally of one pool.",
		Attributes: map[string]schema.Attribute{
			"id": str("`all` or the pool's name."),
			"pool": schema.StringAttribute{
				MarkdownDescription: "Only list nodes of this pool.", Optional: true,
				Validators: []validator.String{nameValidator{}},
			},
			"nodes": schema.ListNestedAttribute{
				MarkdownDescription: "The nodes, ordered by id.", Computed: true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id":             str("Node id."),
					"pool":           str("Pool the node belongs to."),
					"endpoint":       str("URL of the node's agent."),
					"cluster":        str("Cluster the node runs, or empty when it is free."),
					"role":           str("`primary` or `replica` in its cluster, or empty."),
					"healthy":        schema.BoolAttribute{MarkdownDescription: "Whether the node's heartbeats arrive and it reports itself healthy.", Computed: true},
					"last_heartbeat": str("Time of the last heartbeat (RFC 3339), or empty if none arrived since the control plane started."),
				}},
			},
		},
	}
}

func (d *nodesDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = clientFrom(req.ProviderData, resp.Diagnostics.AddError)
}

func (d *nodesDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m nodesModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !haveClient(d.client, &resp.Diagnostics) {
		return
	}
	pool := m.Pool.ValueString()
	nodes, err := d.client.ListNodes(ctx, pool)
	if err != nil {
		resp.Diagnostics.AddError("Unable to List Nodes", apiDetail(err))
		return
	}
	m.ID = types.StringValue("all")
	if pool != "" {
		m.ID = types.StringValue(pool)
	}
	m.Nodes = make([]nodeModel, 0, len(nodes))
	for _, n := range nodes {
		hb := ""
		if n.LastHeartbeat != nil {
			hb = n.LastHeartbeat.UTC().Format(time.RFC3339Nano)
		}
		m.Nodes = append(m.Nodes, nodeModel{
			ID: types.StringValue(n.ID), Pool: types.StringValue(n.Pool), Endpoint: types.StringValue(n.Endpoint),
			Cluster: types.StringValue(n.Cluster), Role: types.StringValue(n.Role),
			Healthy: types.BoolValue(n.Healthy), LastHeartbeat: types.StringValue(hb),
		})
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
