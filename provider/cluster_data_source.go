package provider

import (
	"context"
	"fmt"

	"github.com/duckfleet/duckfleet/internal/client"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

var _ datasource.DataSourceWithConfigure = (*clusterDataSource)(nil)

type clusterDataSource struct {
	client *client.Client
}

func newClusterDataSource() datasource.DataSource { return &clusterDataSource{} }

func (d *clusterDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster"
}

func (d *clusterDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	doc := clusterDocs
	computed := func(key string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: doc[key], Computed: true}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads one cluster by name: its settings, status and nodes.",
		Attributes: map[string]schema.Attribute{
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the cluster to read.", Required: true,
				Validators: []validator.String{nameValidator{}},
			},
			"id":               computed("id"),
			"pool":             computed("pool"),
			"replicas":         schema.Int64Attribute{MarkdownDescription: doc["replicas"], Computed: true},
			"memory_limit":     schema.StringAttribute{MarkdownDescription: doc["memory_limit"], Computed: true, CustomType: sizeType},
			"threads":          schema.Int64Attribute{MarkdownDescription: doc["threads"], Computed: true},
			"storage_url":      computed("storage_url"),
			"restore_from":     computed("restore_from"),
			"generation":       schema.Int64Attribute{MarkdownDescription: doc["generation"], Computed: true},
			"status":           computed("status"),
			"status_message":   computed("status_message"),
			"primary_endpoint": computed("primary_endpoint"),
			"nodes": schema.ListNestedAttribute{
				MarkdownDescription: doc["nodes"], Computed: true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id":                  computed("node.id"),
					"endpoint":            computed("node.endpoint"),
					"role":                computed("node.role"),
					"healthy":             schema.BoolAttribute{MarkdownDescription: doc["node.healthy"], Computed: true},
					"observed_generation": schema.Int64Attribute{MarkdownDescription: doc["node.observed_generation"], Computed: true},
					"memory_limit":        computed("node.memory_limit"),
					"threads":             schema.Int64Attribute{MarkdownDescription: doc["node.threads"], Computed: true},
				}},
			},
		},
	}
}

func (d *clusterDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = clientFrom(req.ProviderData, resp.Diagnostics.AddError)
}

func (d *clusterDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m clusterFields
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !haveClient(d.client, &resp.Diagnostics) {
		return
	}
	name := m.Name.ValueString()
	c, err := d.client.GetCluster(ctx, name)
	if client.IsNotFound(err) {
		resp.Diagnostics.AddError("Cluster Not Found", fmt.Sprintf("No cluster named %q exists in the control plane.", name))
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Unable to Read Cluster", apiDetail(err))
		return
	}
	resp.Diagnostics.Append(m.set(ctx, c)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
