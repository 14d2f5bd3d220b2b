package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/client"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/robfig/cron/v3"
)

var (
	_ resource.ResourceWithConfigure      = (*backupPolicyResource)(nil)
	_ resource.ResourceWithImportState    = (*backupPolicyResource)(nil)
	_ resource.ResourceWithValidateConfig = (*backupPolicyResource)(nil)
)

type backupPolicyResource struct {
	client *client.Client
}

type backupPolicyModel struct {
	ID          types.String `tfsdk:"id"`
	Cluster     types.String `tfsdk:"cluster"`
	Name        types.String `tfsdk:"name"`
	Schedule    types.String `tfsdk:"schedule"`
	KeepLast    types.Int64  `tfsdk:"keep_last"`
	KeepWithin  canonValue   `tfsdk:"keep_within"`
	Prefix      types.String `tfsdk:"prefix"`
	Format      types.String `tfsdk:"format"`
	Compression types.String `tfsdk:"compression"`
	KeyURL      types.String `tfsdk:"encryption_key_url"`
	KeyVersion  types.Int64  `tfsdk:"encryption_key_version"`
	Encrypted   types.Bool   `tfsdk:"encrypted"`
	Generation  types.Int64  `tfsdk:"generation"`
	LastRun     types.String `tfsdk:"last_run"`
	LastSuccess types.String `tfsdk:"last_success"`
	LastError   types.String `tfsdk:"last_error"`
	Kept        types.Int64  `tfsdk:"backups_kept"`
}

func newBackupPolicyResource() resource.Resource { return &backupPolicyResource{} }

func (r *backupPolicyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_backup_policy"
}

// cronValidator checks a schedule at plan time with the parser the
// control plane uses.
type cronValidator struct{}

func (cronValidator) Description(context.Context) string {
	return "must be a cron expression (minute hour day-of-month month day-of-week) or a descriptor such as @daily or @every 6h"
}

func (v cronValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v cronValidator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := cron.ParseStandard(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Schedule", fmt.Sprintf("%q %s: %v", req.ConfigValue.ValueString(), v.Description(ctx), err))
	}
}

func (r *backupPolicyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	computed := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Computed: true}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Scheduled backups of a cluster, pruned by `keep_last` and `keep_within` (the newest complete backup is never " +
			"deleted). The control plane runs the schedule in UTC; `POST /v1/clusters/{cluster}/backup-policies/{name}/run` takes one now. " +
			"With `encryption_key_url`, every object of its backups is encrypted before upload.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`cluster/name`.", Computed: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"cluster": clusterNameAttr(),
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the policy: " + api.NameRule + ". Changing it replaces the policy.", Required: true,
				Validators:    []validator.String{nameValidator{}},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"schedule": schema.StringAttribute{
				MarkdownDescription: "When to take backups, in UTC: a cron expression such as `0 3 * * *`, or `@daily`, `@every 6h`.",
				Required:            true, Validators: []validator.String{cronValidator{}},
			},
			"keep_last": schema.Int64Attribute{
				MarkdownDescription: "Keep the newest N complete backups. Set this, `keep_within`, or both.",
				Optional:            true, Computed: true, Default: int64default.StaticInt64(0),
				Validators: []validator.Int64{int64validator.AtLeast(0)},
			},
			"keep_within": schema.StringAttribute{
				MarkdownDescription: "Keep complete backups younger than this, such as `168h`.",
				Optional:            true, CustomType: durationType,
			},
			"prefix": schema.StringAttribute{
				MarkdownDescription: "Put the policy's backups under `clusters/<cluster>/<prefix>/backups/` in the cluster's storage; unset means `clusters/<cluster>/backups/`.",
				Optional:            true,
			},
			"format": backupFormatAttr("the policy's backups", false),
			"compression": schema.StringAttribute{
				MarkdownDescription: "Parquet codec of `parquet` backups: " + joinCode(api.Compressions) + ". Defaults to `" + api.DefaultCompression +
					"` for `parquet` and is unset (null) for `duckdb`, whose file DuckDB compresses itself.",
				Optional: true, Computed: true,
				Validators:    []validator.String{stringvalidator.OneOf(api.Compressions...)},
				PlanModifiers: []planmodifier.String{compressionDefault{}},
			},
			"encryption_key_url": schema.StringAttribute{
				MarkdownDescription: "A gocloud.dev secrets keeper that wraps each backup's data key, such as `base64key://<base64 of 32 bytes>`, " +
					"`awskms://<key id>?region=...`, `gcpkms://...`, `azurekeyvault://...` or `hashivault://...` (the agents need the keeper's credentials). " +
					"Write-only: never stored in state or plan, and the control plane keeps it sealed. It is sent when the policy is created " +
					"and whenever `encryption_key_version` changes; backups taken before keep the key they were taken with. Needs Terraform 1.11.",
				Optional: true, Sensitive: true, WriteOnly: true,
			},
			"encryption_key_version": schema.Int64Attribute{
				MarkdownDescription: "Any number; change it to send a new `encryption_key_url`.",
				Optional:            true,
			},
			"encrypted":    schema.BoolAttribute{MarkdownDescription: "Whether the policy encrypts its backups.", Computed: true},
			"generation":   schema.Int64Attribute{MarkdownDescription: "Generation of the policy; bumped by every change.", Computed: true},
			"last_run":     computed("When the schedule last took a backup (RFC 3339), or empty."),
			"last_success": computed("When the newest complete backup of the policy completed (RFC 3339), or empty."),
			"last_error":   computed("Why the newest backup failed, if it did and no later one completed."),
			"backups_kept": schema.Int64Attribute{MarkdownDescription: "How many complete backups of the policy are kept.", Computed: true},
		},
	}
}

// ValidateConfig refuses a codec for duckdb backups at plan time, as the
// API would.
func (r *backupPolicyResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var format, compression types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("format"), &format)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("compression"), &compression)...)
	if format.ValueString() == api.FormatDuckDB && !compression.IsNull() && !compression.IsUnknown() {
		resp.Diagnostics.AddAttributeError(path.Root("compression"), "Compression Applies to Parquet Backups Only",
			"A duckdb backup is a copy of the database file, which DuckDB compresses itself: remove compression, or use format = \"parquet\".")
	}
}

// compressionDefault plans the codec the API will choose when the
// configuration has none: zstd for parquet backups, none for duckdb ones.
type compressionDefault struct{}

func (compressionDefault) Description(context.Context) string {
	return "defaults to " + api.DefaultCompression + " for parquet backups and to null for duckdb backups"
}

func (d compressionDefault) MarkdownDescription(ctx context.Context) string {
	return d.Description(ctx)
}

func (compressionDefault) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if !req.ConfigValue.IsNull() {
		return
	}
	var format types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("format"), &format)...)
	switch {
	case format.IsUnknown():
		resp.PlanValue = types.StringUnknown()
	case format.ValueString() == api.FormatDuckDB:
		resp.PlanValue = types.StringNull()
	default:
		resp.PlanValue = types.StringValue(api.DefaultCompression)
	}
}

func (r *backupPolicyResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, resp.Diagnostics.AddError)
}

// spec is the API spec; the keeper URL comes from the configuration (a
// write-only value is never in the plan) and is sent only when sendKey.
func (m *backupPolicyModel) spec(ctx context.Context, cfg tfsdk.Config, sendKey bool) (api.BackupPolicySpec, diag.Diagnostics) {
	s := api.BackupPolicySpec{
		Schedule: m.Schedule.ValueString(), KeepLast: int(m.KeepLast.ValueInt64()), KeepWithin: m.KeepWithin.ValueString(),
		Prefix: m.Prefix.ValueString(), Format: m.Format.ValueString(), Compression: m.Compression.ValueString(),
		EncryptionKeyVersion: m.KeyVersion.ValueInt64(),
	}
	var diags diag.Diagnostics
	if sendKey {
		var key types.String
		diags = cfg.GetAttribute(ctx, path.Root("encryption_key_url"), &key)
		s.EncryptionKeyURL = key.ValueString()
	}
	return s, diags
}

func timeString(t *time.Time) types.String {
	if t == nil {
		return types.StringValue("")
	}
	return types.StringValue(t.UTC().Format(time.RFC3339))
}

func (m *backupPolicyModel) set(p api.BackupPolicy) {
	m.ID = types.StringValue(accessID(p.Cluster, p.Name))
	m.Cluster, m.Name = types.StringValue(p.Cluster), types.StringValue(p.Name)
	m.Schedule = types.StringValue(p.Spec.Schedule)
	m.KeepLast = types.Int64Value(int64(p.Spec.KeepLast))
	m.KeepWithin = newDuration(p.Spec.KeepWithin)
	m.Prefix = types.StringNull()
	if p.Spec.Prefix != "" {
		m.Prefix = types.StringValue(p.Spec.Prefix)
	}
	m.Format = types.StringValue(p.Spec.Format)
	m.Compression = types.StringNull()
	if p.Spec.Compression != "" {
		m.Compression = types.StringValue(p.Spec.Compression)
	}
	m.KeyURL = types.StringNull() // write-only: never in state
	m.KeyVersion = types.Int64Null()
	if p.Spec.EncryptionKeyVersion != 0 {
		m.KeyVersion = types.Int64Value(p.Spec.EncryptionKeyVersion)
	}
	m.Encrypted = types.BoolValue(p.Spec.Encrypted)
	m.Generation = types.Int64Value(p.Generation)
	m.LastRun, m.LastSuccess = timeString(p.Status.LastRun), timeString(p.Status.LastSuccess)
	m.LastError, m.Kept = types.StringValue(p.Status.LastError), types.Int64Value(int64(p.Status.Kept))
}

func (r *backupPolicyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan backupPolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || !haveClient(r.client, &resp.Diagnostics) {
		return
	}
	cluster, name := plan.Cluster.ValueString(), plan.Name.ValueString()
	spec, d := plan.spec(ctx, req.Config, true)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := r.client.CreateBackupPolicy(ctx, cluster, api.BackupPolicyCreate{Name: name, Spec: spec})
	if err != nil {
		accessWriteError(&resp.Diagnostics, "Create", "backup_policy", cluster, name, 0, err)
		return
	}
	plan.set(p)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *backupPolicyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state backupPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !haveClient(r.client, &resp.Diagnostics) {
		return
	}
	p, ok := readOrForget(ctx, resp, "Backup Policy", func() (api.BackupPolicy, error) {
		return r.client.GetBackupPolicy(ctx, state.Cluster.ValueString(), state.Name.ValueString())
	})
	if !ok {
		return
	}
	state.set(p)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *backupPolicyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state backupPolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !haveClient(r.client, &resp.Diagnostics) {
		return
	}
	cluster, name := state.Cluster.ValueString(), state.Name.ValueString()
	spec, d := plan.spec(ctx, req.Config, !plan.KeyVersion.Equal(state.KeyVersion))
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := r.client.UpdateBackupPolicy(ctx, cluster, name, api.BackupPolicyUpdate{Spec: spec}, state.Generation.ValueInt64())
	if err != nil {
		accessWriteError(&resp.Diagnostics, "Update", "backup_policy", cluster, name, state.Generation.ValueInt64(), err)
		return
	}
	plan.set(p)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *backupPolicyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state backupPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !haveClient(r.client, &resp.Diagnostics) {
		return
	}
	err := r.client.DeleteBackupPolicy(ctx, state.Cluster.ValueString(), state.Name.ValueString(), state.Generation.ValueInt64())
	if err != nil && !client.IsNotFound(err) {
		accessWriteError(&resp.Diagnostics, "Delete", "backup_policy", state.Cluster.ValueString(), state.Name.ValueString(), state.Generation.ValueInt64(), err)
	}
}

func (r *backupPolicyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importAccess(ctx, "backup_policy", req, resp)
}
