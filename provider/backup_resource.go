package provider

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/client"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	_ resource.ResourceWithConfigure   = (*backupResource)(nil)
	_ resource.ResourceWithImportState = (*backupResource)(nil)
)

const defaultBackupTimeout = 30 * time.Minute

type backupResource struct {
	client *client.Client
}

type backupModel struct {
	ID             types.String   `tfsdk:"id"`
	Cluster        types.String   `tfsdk:"cluster"`
	Labels         types.Map      `tfsdk:"labels"`
	Format         types.String   `tfsdk:"format"`
	BackupID       types.String   `tfsdk:"backup_id"`
	Size           types.Int64    `tfsdk:"size"`
	TableCount     types.Int64    `tfsdk:"table_count"`
	CreatedAt      types.String   `tfsdk:"created_at"`
	Location       types.String   `tfsdk:"location"`
	ManifestSHA256 types.String   `tfsdk:"manifest_sha256"`
	Timeouts       timeouts.Value `tfsdk:"timeouts"`
}

func newBackupResource() resource.Resource { return &backupResource{} }

func (r *backupResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_backup"
}

func (r *backupResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	computed := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "An on-demand backup of a cluster: a consistent image of its primary's database (tables, views, schemas, " +
			"macros, sequences) written to the cluster's `storage_url`, as ZSTD Parquet files and the schema (`format = \"parquet\"`) or as " +
			"a copy of the database file (`format = \"duckdb\"`), plus a `manifest.json` with the SHA-256 of every object, uploaded last. " +
			"Create waits until the backup is complete; destroy deletes its objects. Any change replaces it (a backup is immutable).",
		Attributes: map[string]schema.Attribute{
			"id":      computed("`cluster/backup_id`."),
			"cluster": clusterNameAttr(),
			"labels": schema.MapAttribute{
				MarkdownDescription: "Labels to tell backups apart: keys and values of 1 to 63 letters, digits, dots, dashes and underscores.",
				Optional:            true, ElementType: types.StringType,
				PlanModifiers: []planmodifier.Map{mapplanmodifier.RequiresReplace()},
			},
			"format":          backupFormatAttr("the backup", true),
			"backup_id":       computed("The backup's id, given by the control plane."),
			"size":            schema.Int64Attribute{MarkdownDescription: "Total bytes of the backup's objects.", Computed: true},
			"table_count":     schema.Int64Attribute{MarkdownDescription: "Number of tables in the backup.", Computed: true},
			"created_at":      computed("When the backup was asked for (RFC 3339)."),
			"location":        computed("Where the backup's objects are: the storage URL (without credentials) and the key prefix."),
			"manifest_sha256": computed("SHA-256 of the backup's `manifest.json`, which lists the SHA-256 of every object."),
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true}),
		},
	}
}

func (r *backupResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, resp.Diagnostics.AddError)
}

func (m *backupModel) set(ctx context.Context, b api.Backup) diag.Diagnostics {
	m.ID = types.StringValue(b.Cluster + "/" + b.ID)
	m.Cluster, m.BackupID = types.StringValue(b.Cluster), types.StringValue(b.ID)
	m.Size, m.TableCount = types.Int64Value(b.Status.Size), types.Int64Value(int64(b.Status.Tables))
	m.CreatedAt = types.StringValue(b.CreatedAt.UTC().Format(time.RFC3339))
	m.Location, m.ManifestSHA256 = types.StringValue(b.Status.Location), types.StringValue(b.Status.ManifestSHA256)
	m.Format = types.StringValue(b.Status.Format)
	var diags diag.Diagnostics
	if len(b.Labels) > 0 || !m.Labels.IsNull() {
		m.Labels, diags = types.MapValueFrom(ctx, types.StringType, b.Labels)
	}
	return diags
}

func (r *backupResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan backupModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || !haveClient(r.client, &resp.Diagnostics) {
		return
	}
	timeout, d := plan.Timeouts.Create(ctx, defaultBackupTimeout)
	resp.Diagnostics.Append(d...)
	in := api.BackupCreate{Format: plan.Format.ValueString()}
	if !plan.Labels.IsNull() {
		resp.Diagnostics.Append(plan.Labels.ElementsAs(ctx, &in.Labels, false)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	cluster := plan.Cluster.ValueString()
	b, err := r.client.CreateBackup(ctx, cluster, in)
	if err != nil {
		resp.Diagnostics.AddError("Unable to Create Backup", apiDetail(err))
		return
	}
	b, waitErr := waitBackup(ctx, r.client, b, timeout)
	resp.Diagnostics.Append(plan.set(ctx, b)...)
	// Saved even when it failed, so that destroy cleans up what was written.
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	if waitErr != nil {
		resp.Diagnostics.AddError("Backup Did Not Complete", waitErr.Error())
	}
}

// waitBackup polls a backup until it is complete, failed or timeout passes.
func waitBackup(ctx context.Context, c *client.Client, b api.Backup, timeout time.Duration) (api.Backup, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	delay := 100 * time.Millisecond
	for {
		switch b.Status.Phase {
		case api.BackupComplete:
			return b, nil
		case api.BackupFailed:
			return b, fmt.Errorf("backup %s of cluster %q failed: %s", b.ID, b.Cluster, b.Status.Error)
		}
		select {
		case <-ctx.Done():
			return b, fmt.Errorf("backup %s of cluster %q is still %s after %s (%d of %d bytes uploaded); raise the create timeout",
				b.ID, b.Cluster, b.Status.Phase, timeout, b.Status.BytesDone, b.Status.BytesTotal)
		case <-time.After(delay):
		}
		delay = min(delay*2, 2*time.Second)
		nb, err := c.GetBackup(ctx, b.Cluster, b.ID)
		if err != nil && ctx.Err() == nil {
			return b, err
		}
		if err == nil {
			b = nb
		}
	}
}

func (r *backupResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state backupModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !haveClient(r.client, &resp.Diagnostics) {
		return
	}
	b, ok := readOrForget(ctx, resp, "Backup", func() (api.Backup, error) {
		return r.client.GetBackup(ctx, state.Cluster.ValueString(), state.BackupID.ValueString())
	})
	if !ok {
		return
	}
	resp.Diagnostics.Append(state.set(ctx, b)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update is called only when the timeouts change: every other
// configurable attribute replaces the backup. It keeps the state and
// takes the new timeouts (the plan's computed values may be unknown).
func (r *backupResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state backupModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	state.Timeouts = plan.Timeouts
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *backupResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state backupModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !haveClient(r.client, &resp.Diagnostics) {
		return
	}
	err := r.client.DeleteBackup(ctx, state.Cluster.ValueString(), state.BackupID.ValueString())
	if err != nil && !client.IsNotFound(err) {
		resp.Diagnostics.AddError("Unable to Delete Backup", apiDetail(err))
	}
}

func (r *backupResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	cluster, id, ok := strings.Cut(req.ID, "/")
	if !ok || !api.ValidName(cluster) || id == "" {
		resp.Diagnostics.AddError("Invalid Import ID", fmt.Sprintf("%q is not CLUSTER/BACKUP_ID, such as analytics/bk-20260101t000000-a1b2c3.", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("cluster"), cluster)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("backup_id"), id)...)
}

// backupFormatAttr is the format attribute of backups and policies; a
// backup's cannot change (replace), a policy's applies to later backups.
func backupFormatAttr(what string, replace bool) schema.StringAttribute {
	a := schema.StringAttribute{
		MarkdownDescription: "Format of " + what + ": `" + api.FormatParquet + "` (the default) writes one ZSTD Parquet file per table and the " +
			"schema, which any Parquet reader can open, but costs CPU: DuckDB encodes every value, and a restore loads and compresses it " +
			"again. `" + api.FormatDuckDB + "` copies the database file itself (writes wait while it is copied locally, reads go on): " +
			"backup and restore run at close to disk speed, but only a DuckDB of the same or a newer version can read it.",
		Optional: true, Computed: true, Default: stringdefault.StaticString(api.FormatParquet),
		Validators: []validator.String{stringvalidator.OneOf(api.Formats...)},
	}
	if replace {
		a.PlanModifiers = []planmodifier.String{stringplanmodifier.RequiresReplace()}
	}
	return a
}
