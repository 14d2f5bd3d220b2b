package provider

import (
	"context"
	"fmt"
	"regexp"

	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/client"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var schemaNameRE = regexp.MustCompile(`^[^A-Z."\s]{1,63}$`)

var (
	_ resource.ResourceWithConfigure   = (*roleResource)(nil)
	_ resource.ResourceWithImportState = (*roleResource)(nil)
)

type roleResource struct {
	client *client.Client
}

type roleModel struct {
	ID            types.String   `tfsdk:"id"`
	Cluster       types.String   `tfsdk:"cluster"`
	Name          types.String   `tfsdk:"name"`
	Privileges    types.Set      `tfsdk:"privileges"`
	QueryTimeout  canonValue     `tfsdk:"query_timeout"`
	MaxResultRows types.Int64    `tfsdk:"max_result_rows"`
	Schemas       types.Set      `tfsdk:"schemas"`
	Generation    types.Int64    `tfsdk:"generation"`
	Timeouts      timeouts.Value `tfsdk:"timeouts"`
}

func newRoleResource() resource.Resource { return &roleResource{} }

func (r *roleResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_role"
}

// clusterNameAttr is the `cluster` attribute of a cluster's child object.
func clusterNameAttr() schema.StringAttribute {
	return schema.StringAttribute{
		MarkdownDescription: "Name of the cluster. Changing it replaces the object.", Required: true,
		Validators:    []validator.String{nameValidator{}},
		PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
	}
}

func (r *roleResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A role of a cluster: which classes of SQL statements its users may run through the nodes' query API, " +
			"decided by DuckDB's own parser before a statement runs. Whatever the role, queries cannot read or write files, attach " +
			"databases, load extensions or change settings. Create, update and destroy return once every node of the cluster enforces the change.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`cluster/name`.", Computed: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"cluster": clusterNameAttr(),
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the role: " + api.NameRule + ". Changing it replaces the role.", Required: true,
				Validators:    []validator.String{nameValidator{}},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"privileges": schema.SetAttribute{
				MarkdownDescription: fmt.Sprintf("Statement classes the role may run, written in upper case: %s.", joinCode(api.Privileges)),
				Required:            true, ElementType: types.StringType,
				Validators: []validator.Set{
					setvalidator.SizeAtLeast(1),
					setvalidator.ValueStringsAre(stringvalidator.OneOf(api.Privileges...)),
				},
			},
			"query_timeout": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Longest a query may run before it is interrupted, such as `30s` or `5m` (at most %s). "+
					"Unset means %s. A user with several roles gets the longest.", api.FormatDuration(api.MaxQueryTimeout), api.FormatDuration(api.DefaultQueryTimeout)),
				Optional: true, CustomType: durationType,
			},
			"max_result_rows": schema.Int64Attribute{
				MarkdownDescription: "Most rows a query answers (the answer says when it was cut). `0`, the default, means no cap; a user with several roles gets the largest.",
				Optional:            true, Computed: true, Default: int64default.StaticInt64(0),
				Validators: []validator.Int64{int64validator.AtLeast(0)},
			},
			"schemas": schema.SetAttribute{
				MarkdownDescription: "When set, the only schemas (lower-case names) the role's statements may touch: every table a SELECT names or scans, " +
					"and the targets of UPDATE and DELETE, must be in them (views count with the tables they read). DuckDB cannot tell " +
					"which table an INSERT, CREATE, DROP or ALTER touches before it runs, so a role with `schemas` refuses those.",
				Optional: true, ElementType: types.StringType,
				Validators: []validator.Set{
					setvalidator.SizeAtLeast(1),
					setvalidator.ValueStringsAre(stringvalidator.RegexMatches(schemaNameRE, "must be a lower-case schema name of 1 to 63 characters without dots, quotes or spaces")),
				},
			},
			"generation": schema.Int64Attribute{MarkdownDescription: "Generation of the role; bumped by every change.", Computed: true},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

func (r *roleResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, resp.Diagnostics.AddError)
}

func (m *roleModel) spec(ctx context.Context) (api.RoleSpec, diag.Diagnostics) {
	s := api.RoleSpec{QueryTimeout: m.QueryTimeout.ValueString(), MaxResultRows: m.MaxResultRows.ValueInt64()}
	diags := m.Privileges.ElementsAs(ctx, &s.Privileges, false)
	if !m.Schemas.IsNull() {
		diags.Append(m.Schemas.ElementsAs(ctx, &s.Schemas, false)...)
	}
	return s, diags
}

func (m *roleModel) set(ctx context.Context, r api.Role) diag.Diagnostics {
	m.ID = types.StringValue(accessID(r.Cluster, r.Name))
	m.Cluster, m.Name = types.StringValue(r.Cluster), types.StringValue(r.Name)
	m.QueryTimeout = newDuration(r.Spec.QueryTimeout)
	m.MaxResultRows = types.Int64Value(r.Spec.MaxResultRows)
	m.Generation = types.Int64Value(r.Generation)
	var diags, d diag.Diagnostics
	m.Privileges, diags = types.SetValueFrom(ctx, types.StringType, r.Spec.Privileges)
	m.Schemas = types.SetNull(types.StringType)
	if len(r.Spec.Schemas) > 0 {
		m.Schemas, d = types.SetValueFrom(ctx, types.StringType, r.Spec.Schemas)
		diags.Append(d...)
	}
	return diags
}

func (r *roleResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan roleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || !haveClient(r.client, &resp.Diagnostics) {
		return
	}
	timeout, d := plan.Timeouts.Create(ctx, defaultAccessTimeout)
	resp.Diagnostics.Append(d...)
	spec, d := plan.spec(ctx)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	cluster, name := plan.Cluster.ValueString(), plan.Name.ValueString()
	role, err := r.client.CreateRole(ctx, cluster, api.RoleCreate{Name: name, Spec: spec})
	if err != nil {
		accessWriteError(&resp.Diagnostics, "Create", "role", cluster, name, 0, err)
		return
	}
	resp.Diagnostics.Append(plan.set(ctx, role)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	waitAccess(ctx, r.client, cluster, role.Status.AccessGeneration, timeout, &resp.Diagnostics)
}

func (r *roleResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state roleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !haveClient(r.client, &resp.Diagnostics) {
		return
	}
	role, ok := readOrForget(ctx, resp, "Role", func() (api.Role, error) {
		return r.client.GetRole(ctx, state.Cluster.ValueString(), state.Name.ValueString())
	})
	if !ok {
		return
	}
	resp.Diagnostics.Append(state.set(ctx, role)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *roleResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state roleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !haveClient(r.client, &resp.Diagnostics) {
		return
	}
	timeout, d := plan.Timeouts.Update(ctx, defaultAccessTimeout)
	resp.Diagnostics.Append(d...)
	spec, d := plan.spec(ctx)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	cluster, name := state.Cluster.ValueString(), state.Name.ValueString()
	role, err := r.client.UpdateRole(ctx, cluster, name, api.RoleUpdate{Spec: spec}, state.Generation.ValueInt64())
	if err != nil {
		accessWriteError(&resp.Diagnostics, "Update", "role", cluster, name, state.Generation.ValueInt64(), err)
		return
	}
	resp.Diagnostics.Append(plan.set(ctx, role)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	waitAccess(ctx, r.client, cluster, role.Status.AccessGeneration, timeout, &resp.Diagnostics)
}

func (r *roleResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state roleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !haveClient(r.client, &resp.Diagnostics) {
		return
	}
	timeout, d := state.Timeouts.Delete(ctx, defaultAccessTimeout)
	resp.Diagnostics.Append(d...)
	deleteAccess(ctx, r.client, "role", state.Cluster.ValueString(), state.Name.ValueString(), state.Generation.ValueInt64(), timeout, r.client.DeleteRole, &resp.Diagnostics)
}

func (r *roleResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importAccess(ctx, "role", req, resp)
}
