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

var _ datasource.DataSourceWithConfigure = (*backupsDataSource)(nil)

type backupsDataSource struct {
	client *client.Client
}

type backupsModel struct {
	ID      types.String      `tfsdk:"id"`
	Cluster types.String      `tfsdk:"cluster"`
	Backups []backupListModel `tfsdk:"backups"`
}

type backupListModel struct {
	BackupID   types.String `tfsdk:"backup_id"`
	Status     types.String `tfsdk:"status"`
	Format     types.String `tfsdk:"format"`
	Size       types.Int64  `tfsdk:"size"`
	TableCount types.Int64  `tfsdk:"table_count"`
	CreatedAt  types.String `tfsdk:"created_at"`
	Location   types.String `tfsdk:"location"`
	Labels     types.Map    `tfsdk:"labels"`
}

func newBackupsDataSource() datasource.DataSource { return &backupsDataSource{} }

func (d *backupsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_backups"
}

func (d *backupsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Computed: true}
	}
	num := func(desc string) schema.Int64Attribute {
		return schema.Int64Attribute{MarkdownDescription: desc, Computed: true}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists a cluster's backups, newest first.",
		Attributes: map[string]schema.Attribute{
			"id":      str("The cluster's name."),
			"cluster": schema.StringAttribute{MarkdownDescription: "Name of the cluster.", Required: true, Validators: []validator.String{nameValidator{}}},
			"backups": schema.ListNestedAttribute{
				MarkdownDescription: "The backups, newest first.", Computed: true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"backup_id":   str("The backup's id (use it in `restore_from`)."),
					"status":      str("`pending`, `running`, `complete` or `failed`."),
					"format":      str("`parquet` or `duckdb`."),
					"size":        num("Total bytes of its objects."),
					"table_count": num("Number of tables."),
					"created_at":  str("When it was asked for (RFC 3339)."),
					"location":    str("Where its objects are."),
					"labels":      schema.MapAttribute{MarkdownDescription: "Its labels.", Computed: true, ElementType: types.StringType},
				}},
			},
		},
	}
}

func (d *backupsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = clientFrom(req.ProviderData, resp.Diagnostics.AddError)
}

func (d *backupsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m backupsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !haveClient(d.client, &resp.Diagnostics) {
		return
	}
	list, err := d.client.ListBackups(ctx, m.Cluster.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Unable to List Backups", apiDetail(err))
		return
	}
	m.ID = m.Cluster
	m.Backups = make([]backupListModel, 0, len(list))
	for _, b := range list {
		labels, diags := types.MapValueFrom(ctx, types.StringType, b.Labels)
		resp.Diagnostics.Append(diags...)
		m.Backups = append(m.Backups, backupListModel{
			BackupID: types.StringValue(b.ID), Status: types.StringValue(b.Status.Phase), Format: types.StringValue(b.Status.Format),
			Size: types.Int64Value(b.Status.Size), TableCount: types.Int64Value(int64(b.Status.Tables)),
			CreatedAt: types.StringValue(b.CreatedAt.UTC().Format(time.RFC3339)), Location: types.StringValue(b.Status.Location),
			Labels: labels,
		})
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
