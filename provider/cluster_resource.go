package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/client"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

var (
	_ resource.ResourceWithConfigure   = (*clusterResource)(nil)
	_ resource.ResourceWithImportState = (*clusterResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*clusterResource)(nil)
)

// Default convergence timeouts of duckfleet_cluster.
const (
	defaultCreateTimeout = 10 * time.Minute
	defaultUpdateTimeout = 10 * time.Minute
)

type clusterResource struct {
	client *client.Client
}

type clusterResourceModel struct {
	clusterFields
	Timeouts timeouts.Value `tfsdk:"timeouts"`
}

func newClusterResource() resource.Resource { return &clusterResource{} }

func (r *clusterResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_cluster"
}

func (r *clusterResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	d := clusterDocs
	resp.Schema = schema.Schema{
		MarkdownDescription: "A cluster of DuckDB nodes: one primary and optional replicas, placed on agents of a pool. " +
			"Create and update return once every node runs the new settings (see `timeouts`).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: d["id"], Computed: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: d["name"], Required: true,
				Validators:    []validator.String{nameValidator{}},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"pool": schema.StringAttribute{
				MarkdownDescription: d["pool"] + " Defaults to `" + api.DefaultPool + "`.", Optional: true, Computed: true,
				Default:       stringdefault.StaticString(api.DefaultPool),
				Validators:    []validator.String{nameValidator{}},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"replicas": schema.Int64Attribute{
				MarkdownDescription: d["replicas"] + " Defaults to `0`.", Optional: true, Computed: true,
				Default:    int64default.StaticInt64(0),
				Validators: []validator.Int64{int64validator.Between(0, api.MaxReplicas)},
			},
			"memory_limit": schema.StringAttribute{
				MarkdownDescription: d["memory_limit"] + " Defaults to `" + api.DefaultMemoryLimit + "`.",
				Optional:            true, Computed: true,
				CustomType: sizeType,
				Default:    stringdefault.StaticString(api.DefaultMemoryLimit),
			},
			"threads": schema.Int64Attribute{
				MarkdownDescription: d["threads"] + fmt.Sprintf(" Defaults to `%d`.", api.DefaultThreads),
				Optional:            true, Computed: true,
				Default:    int64default.StaticInt64(api.DefaultThreads),
				Validators: []validator.Int64{int64validator.Between(1, api.MaxThreads)},
			},
			"restore_from": schema.StringAttribute{
				MarkdownDescription: d["restore_from"], Optional: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"storage_url": schema.StringAttribute{
				MarkdownDescription: d["storage_url"], Optional: true, Computed: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"generation":     schema.Int64Attribute{MarkdownDescription: d["generation"], Computed: true},
			"status":         schema.StringAttribute{MarkdownDescription: d["status"], Computed: true},
			"status_message": schema.StringAttribute{MarkdownDescription: d["status_message"], Computed: true},
			"primary_endpoint": schema.StringAttribute{
				MarkdownDescription: d["primary_endpoint"], Computed: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"nodes": schema.ListNestedAttribute{
				MarkdownDescription: d["nodes"], Computed: true,
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id":                  schema.StringAttribute{MarkdownDescription: d["node.id"], Computed: true},
					"endpoint":            schema.StringAttribute{MarkdownDescription: d["node.endpoint"], Computed: true},
					"role":                schema.StringAttribute{MarkdownDescription: d["node.role"], Computed: true},
					"healthy":             schema.BoolAttribute{MarkdownDescription: d["node.healthy"], Computed: true},
					"observed_generation": schema.Int64Attribute{MarkdownDescription: d["node.observed_generation"], Computed: true},
					"memory_limit":        schema.StringAttribute{MarkdownDescription: d["node.memory_limit"], Computed: true},
					"threads":             schema.Int64Attribute{MarkdownDescription: d["node.threads"], Computed: true},
				}},
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true}),
		},
	}
}

// ModifyPlan plans no change when the configured spec means the same as
// the state's (a size written another way): the framework marks computed
// attributes unknown whenever any configured value differs byte-wise, which
// would otherwise show a no-op update on every plan.
func (r *clusterResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() {
		return
	}
	var plan, state clusterResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || plan.Pool.IsUnknown() || plan.Replicas.IsUnknown() ||
		plan.MemoryLimit.IsUnknown() || plan.Threads.IsUnknown() || plan.StorageURL.IsUnknown() {
		return
	}
	ps, ss := plan.spec(), state.spec()
	if plan.Name != state.Name || !api.SameSize(ps.MemoryLimit, ss.MemoryLimit) {
		return
	}
	ps.MemoryLimit = ss.MemoryLimit
	if ps != ss {
		return
	}
	timeouts := plan.Timeouts
	plan = state
	plan.Timeouts = timeouts
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

func (r *clusterResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = clientFrom(req.ProviderData, resp.Diagnostics.AddError)
}

func (r *clusterResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan clusterResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || !haveClient(r.client, &resp.Diagnostics) {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultCreateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := plan.Name.ValueString()
	c, err := r.client.CreateCluster(ctx, api.ClusterCreate{Name: name, Spec: plan.spec()})
	if err != nil {
		if client.StatusCode(err) == http.StatusConflict {
			resp.Diagnostics.AddError("Cluster Already Exists",
				fmt.Sprintf("A cluster named %q already exists in the control plane. %s", name, importHint("duckfleet_cluster", name)))
			return
		}
		resp.Diagnostics.AddError("Unable to Create Cluster", apiDetail(err))
		return
	}
	tflog.Info(ctx, "created cluster; waiting for its nodes", map[string]any{"cluster": name, "generation": c.Generation})
	r.settle(ctx, c, timeout, &plan, &resp.State, &resp.Diagnostics, "Cluster Did Not Become Ready")
}

// settle waits for the cluster to converge and saves what it last read.
// The state is saved even when the wait fails, so the cluster is tracked
// (and tainted) rather than orphaned.
func (r *clusterResource) settle(ctx context.Context, c api.Cluster, timeout time.Duration, m *clusterResourceModel, state *tfsdk.State, diags *diag.Diagnostics, summary string) {
	converged, err := waitConverged(ctx, r.client, c.Name, target{generation: c.Generation}, timeout)
	if err == nil {
		c = converged
	}
	diags.Append(m.set(ctx, c)...)
	diags.Append(state.Set(ctx, m)...)
	if err != nil {
		diags.AddError(summary, err.Error())
	}
}

func (r *clusterResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state clusterResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !haveClient(r.client, &resp.Diagnostics) {
		return
	}
	name := state.ID.ValueString()
	c, ok := readOrForget(ctx, resp, "Cluster", func() (api.Cluster, error) { return r.client.GetCluster(ctx, name) })
	if !ok {
		return
	}
	resp.Diagnostics.Append(state.set(ctx, c)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *clusterResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state clusterResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !haveClient(r.client, &resp.Diagnostics) {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultUpdateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.ID.ValueString()
	c, err := r.client.UpdateCluster(ctx, name, api.ClusterUpdate{Spec: plan.spec()}, state.Generation.ValueInt64())
	if err != nil {
		if client.StatusCode(err) == http.StatusPreconditionFailed {
			resp.Diagnostics.AddError("Cluster Changed Outside Terraform",
				fmt.Sprintf("Cluster %q was changed by someone else after Terraform last read it (generation %d), so this update was not applied. Run terraform plan again to see the current state, then apply.\n\n%s",
					name, state.Generation.ValueInt64(), apiDetail(err)))
			return
		}
		resp.Diagnostics.AddError("Unable to Update Cluster", apiDetail(err))
		return
	}
	r.settle(ctx, c, timeout, &plan, &resp.State, &resp.Diagnostics, "Cluster Did Not Converge")
}

func (r *clusterResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state clusterResourceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !haveClient(r.client, &resp.Diagnostics) {
		return
	}
	name := state.ID.ValueString()
	err := r.client.DeleteCluster(ctx, name, state.Generation.ValueInt64())
	switch {
	case err == nil || client.IsNotFound(err):
	case client.StatusCode(err) == http.StatusPreconditionFailed:
		resp.Diagnostics.AddError("Cluster Changed Outside Terraform",
			fmt.Sprintf("Cluster %q was changed by someone else after Terraform last read it, so it was not deleted. Run terraform plan again, then destroy.\n\n%s", name, apiDetail(err)))
	default:
		resp.Diagnostics.AddError("Unable to Delete Cluster", apiDetail(err))
	}
}

func (r *clusterResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if !api.ValidName(req.ID) {
		resp.Diagnostics.AddError("Invalid Import ID", fmt.Sprintf("%q is not a cluster name: use %s.", req.ID, api.NameRule))
		return
	}
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}

// haveClient reports a missing client (an unknown provider setting).
func haveClient(c *client.Client, diags interface{ AddError(string, string) }) bool {
	if c == nil {
		diags.AddError("Provider Not Configured",
			"The duckfleet provider has no endpoint or token yet (they may depend on resources not yet applied). Set them to known values.")
		return false
	}
	return true
}

// apiDetail renders an API error for a diagnostic's detail.
func apiDetail(err error) string {
	var e *client.Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "The control plane answered %d %s", e.StatusCode, e.Problem.Title)
	if e.Problem.Detail != "" {
		fmt.Fprintf(&b, ": %s", e.Problem.Detail)
	}
	for _, fe := range e.Problem.Errors {
		fmt.Fprintf(&b, "\n  - %s: %s", fe.Field, fe.Message)
	}
	return b.String()
}

// target is what a wait waits for: the cluster ready at this spec
// generation and access generation, or later.
type target struct {
	generation, access int64
}

func (t target) reached(c api.Cluster) bool {
	return c.Generation >= t.generation && c.Status.AccessGeneration >= t.access && c.Status.Phase == api.PhaseReady
}

func (t target) String() string {
	if t.access > 0 {
		return fmt.Sprintf("access generation %d", t.access)
	}
	return fmt.Sprintf("generation %d", t.generation)
}

// waitConverged polls a cluster until every node runs the target. On
// timeout it says which nodes lag and why.
func waitConverged(ctx context.Context, c *client.Client, name string, want target, timeout time.Duration) (api.Cluster, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	delay := 100 * time.Millisecond
	var last api.Cluster
	var lastErr error
	for {
		cl, err := c.GetCluster(ctx, name)
		switch {
		case client.IsNotFound(err):
			return api.Cluster{}, fmt.Errorf("cluster %q was deleted while Terraform waited for it", name)
		case err == nil:
			last, lastErr = cl, nil
			if want.reached(cl) {
				return cl, nil
			}
		case ctx.Err() == nil:
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return last, convergenceError(name, want, timeout, last, lastErr)
		case <-time.After(delay):
		}
		delay = min(delay*2, time.Second)
	}
}

func convergenceError(name string, want target, timeout time.Duration, c api.Cluster, lastErr error) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Cluster %q did not become ready at %s within %s.", name, want, timeout)
	if c.Name != "" {
		fmt.Fprintf(&b, "\nStatus: %s", c.Status.Phase)
		if c.Status.Message != "" {
			fmt.Fprintf(&b, ": %s", c.Status.Message)
		}
		for _, n := range c.Status.Nodes {
			if n.ObservedGeneration >= want.generation && n.ObservedAccessGeneration >= want.access && n.Healthy && n.Error == "" {
				continue
			}
			fmt.Fprintf(&b, "\n  - node %s (%s, %s): runs generation %d, access generation %d, healthy=%t",
				n.ID, n.Role, n.Endpoint, n.ObservedGeneration, n.ObservedAccessGeneration, n.Healthy)
			if n.Error != "" {
				fmt.Fprintf(&b, ", error: %s", n.Error)
			}
		}
	}
	if lastErr != nil {
		fmt.Fprintf(&b, "\nLast error while polling: %v", lastErr)
	}
	b.WriteString("\nRaise the timeouts block, or fix the nodes and apply again.")
	return errors.New(b.String())
}
