package provider

import (
	"context"

	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/client"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	_ resource.ResourceWithConfigure   = (*userResource)(nil)
	_ resource.ResourceWithImportState = (*userResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*userResource)(nil)
)

type userResource struct {
	client *client.Client
}

type userModel struct {
	ID           types.String   `tfsdk:"id"`
	Cluster      types.String   `tfsdk:"cluster"`
	Name         types.String   `tfsdk:"name"`
	Roles        types.Set      `tfsdk:"roles"`
	Token        types.String   `tfsdk:"token"`
	TokenVersion types.Int64    `tfsdk:"token_version"`
	Generation   types.Int64    `tfsdk:"generation"`
	Timeouts     timeouts.Value `tfsdk:"timeouts"`
}

func newUserResource() resource.Resource { return &userResource{} }

func (r *userResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_user"
}

func (r *userResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A user of a cluster's query API. The control plane issues the user's token and keeps only its hash; " +
			"Terraform receives it once, in the sensitive `token` attribute. Change `token_version` to rotate it: the old token stops " +
			"working on every node before apply returns. An imported user has no `token` until its `token_version` changes.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`cluster/name`.", Computed: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"cluster": clusterNameAttr(),
			"name": schema.StringAttribute{
				MarkdownDescription: "Name of the user: " + api.NameRule + ". Changing it replaces the user (and its token).", Required: true,
				Validators:    []validator.String{nameValidator{}},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"roles": schema.SetAttribute{
				MarkdownDescription: "Names of the cluster's roles the user has; reference `duckfleet_role` resources so that they exist first.",
				Optional:            true, Computed: true, ElementType: types.StringType,
				Default:    setdefault.StaticValue(types.SetValueMust(types.StringType, []attr.Value{})),
				Validators: []validator.Set{setvalidator.ValueStringsAre(nameValidator{})},
			},
			"token": schema.StringAttribute{
				MarkdownDescription: "The user's bearer token for the nodes' query API. Sensitive; set when the user is created and whenever `token_version` changes.",
				Computed:            true, Sensitive: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"token_version": schema.Int64Attribute{
				MarkdownDescription: "Any number; changing it issues a new token and revokes the old one. Defaults to `1`.",
				Optional:            true, Computed: true, Default: int64default.StaticInt64(1),
			},
			"generation": schema.Int64Attribute{MarkdownDescription: "Generation of the user; bumped by every change of its roles.", Computed: true},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

func (r *userResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, resp.Diagnostics.AddError)
}

// rotates reports whether going from state to plan issues a new token. An
// imported user (no token_version in state) adopts the configured version
// without a rotation.
func rotates(state, plan userModel) bool {
	return !state.TokenVersion.IsNull() && !plan.TokenVersion.IsUnknown() && !plan.TokenVersion.Equal(state.TokenVersion)
}

// ModifyPlan marks the token unknown when token_version changes.
func (r *userResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() {
		return
	}
	var plan, state userModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !rotates(state, plan) {
		return
	}
	plan.Token = types.StringUnknown()
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

func (m *userModel) set(ctx context.Context, u api.User) diag.Diagnostics {
	m.ID = types.StringValue(accessID(u.Cluster, u.Name))
	m.Cluster, m.Name = types.StringValue(u.Cluster), types.StringValue(u.Name)
	m.Generation = types.Int64Value(u.Generation)
	if u.Token != "" {
		m.Token = types.StringValue(u.Token)
	}
	var diags diag.Diagnostics
	m.Roles, diags = types.SetValueFrom(ctx, types.StringType, u.Spec.Roles)
	return diags
}

func (m *userModel) spec(ctx context.Context) (api.UserSpec, diag.Diagnostics) {
	s := api.UserSpec{Roles: []string{}}
	diags := m.Roles.ElementsAs(ctx, &s.Roles, false)
	return s, diags
}

func (r *userResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan userModel
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
	u, err := r.client.CreateUser(ctx, cluster, api.UserCreate{Name: name, Spec: spec})
	if err != nil {
		accessWriteError(&resp.Diagnostics, "Create", "user", cluster, name, 0, err)
		return
	}
	resp.Diagnostics.Append(plan.set(ctx, u)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	waitAccess(ctx, r.client, cluster, u.Status.AccessGeneration, timeout, &resp.Diagnostics)
}

func (r *userResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state userModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !haveClient(r.client, &resp.Diagnostics) {
		return
	}
	u, ok := readOrForget(ctx, resp, "User", func() (api.User, error) {
		return r.client.GetUser(ctx, state.Cluster.ValueString(), state.Name.ValueString())
	})
	if !ok {
		return
	}
	resp.Diagnostics.Append(state.set(ctx, u)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *userResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state userModel
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
	u, err := r.client.UpdateUser(ctx, cluster, name, api.UserUpdate{Spec: spec}, state.Generation.ValueInt64())
	if err != nil {
		accessWriteError(&resp.Diagnostics, "Update", "user", cluster, name, state.Generation.ValueInt64(), err)
		return
	}
	plan.Token = state.Token
	if rotates(state, plan) {
		if u, err = r.client.RotateUserToken(ctx, cluster, name); err != nil {
			accessWriteError(&resp.Diagnostics, "Rotate the Token of", "user", cluster, name, 0, err)
			return
		}
	}
	resp.Diagnostics.Append(plan.set(ctx, u)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	waitAccess(ctx, r.client, cluster, u.Status.AccessGeneration, timeout, &resp.Diagnostics)
}

func (r *userResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state userModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !haveClient(r.client, &resp.Diagnostics) {
		return
	}
	timeout, d := state.Timeouts.Delete(ctx, defaultAccessTimeout)
	resp.Diagnostics.Append(d...)
	deleteAccess(ctx, r.client, "user", state.Cluster.ValueString(), state.Name.ValueString(), state.Generation.ValueInt64(), timeout, r.client.DeleteUser, &resp.Diagnostics)
}

func (r *userResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importAccess(ctx, "user", req, resp)
}
