package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// clusterFields are the attributes shared by the duckfleet_cluster
// resource and data source.
type clusterFields struct {
	ID              types.String `tfsdk:"id"`
	Name            types.String `tfsdk:"name"`
	Pool            types.String `tfsdk:"pool"`
	Replicas        types.Int64  `tfsdk:"replicas"`
	MemoryLimit     canonValue   `tfsdk:"memory_limit"`
	Threads         types.Int64  `tfsdk:"threads"`
	StorageURL      types.String `tfsdk:"storage_url"`
	RestoreFrom     types.String `tfsdk:"restore_from"`
	Generation      types.Int64  `tfsdk:"generation"`
	Status          types.String `tfsdk:"status"`
	StatusMessage   types.String `tfsdk:"status_message"`
	PrimaryEndpoint types.String `tfsdk:"primary_endpoint"`
	Nodes           types.List   `tfsdk:"nodes"`
}

// Attribute descriptions, shared by the resource and the data source.
var clusterDocs = map[string]string{
	"id":                       "The cluster's name.",
	"name":                     "Name of the cluster: " + api.NameRule + ". Changing it replaces the cluster.",
	"pool":                     "Pool of agents the cluster's nodes are taken from. Changing it replaces the cluster.",
	"replicas":                 fmt.Sprintf("Number of read-only replica nodes beside the primary (0 to %d).", api.MaxReplicas),
	"memory_limit":             "DuckDB `memory_limit` on every node, such as `512MiB` or `4GB` (" + api.SizeUnitsHelp + "; units are case-insensitive). Any spelling of the same size is the same value: writing `1024MiB` instead of `1GiB` is not a change.",
	"threads":                  fmt.Sprintf("DuckDB `threads` on every node (1 to %d).", api.MaxThreads),
	"storage_url":              "Where the cluster's backups go: a gocloud.dev blob URL (`file:///dir`, `s3://bucket?region=...`, `gs://bucket`, `azblob://container`). Credentials come from the agents' environment, never from Terraform. Unset means the control plane's default storage.",
	"restore_from":             "Id of a complete backup (of any cluster, see `duckfleet_backup` and the `duckfleet_backups` data source) the new cluster starts from. Every node loads it, verifies every object's checksum and the row counts, and only then reports the cluster ready. Changing it replaces the cluster.",
	"generation":               "Generation of the cluster's spec; bumped by every change.",
	"status":                   "`ready` when every node runs the newest generation and is healthy; otherwise `pending` (not placed yet), `converging` or `degraded`.",
	"status_message":           "Why the cluster is not `ready`, if it is not.",
	"primary_endpoint":         "URL of the primary node's agent: send writes here.",
	"nodes":                    "The cluster's nodes, as they report themselves.",
	"node.id":                  "Node id.",
	"node.endpoint":            "URL of the node's agent.",
	"node.role":                "`primary` or `replica`.",
	"node.healthy":             "Whether the node's heartbeats arrive and it reports itself healthy.",
	"node.observed_generation": "Cluster generation the node runs.",
	"node.memory_limit":        "`memory_limit` in effect on the node, as DuckDB reports it (for example `512.0 MiB`).",
	"node.threads":             "`threads` in effect on the node, as DuckDB reports it.",
}

var clusterNodeAttrTypes = map[string]attr.Type{
	"id":                  types.StringType,
	"endpoint":            types.StringType,
	"role":                types.StringType,
	"healthy":             types.BoolType,
	"observed_generation": types.Int64Type,
	"memory_limit":        types.StringType,
	"threads":             types.Int64Type,
}

type clusterNodeModel struct {
	ID                 types.String `tfsdk:"id"`
	Endpoint           types.String `tfsdk:"endpoint"`
	Role               types.String `tfsdk:"role"`
	Healthy            types.Bool   `tfsdk:"healthy"`
	ObservedGeneration types.Int64  `tfsdk:"observed_generation"`
	MemoryLimit        types.String `tfsdk:"memory_limit"`
	Threads            types.Int64  `tfsdk:"threads"`
}

// spec is the API spec the fields declare.
func (m *clusterFields) spec() api.ClusterSpec {
	return api.ClusterSpec{
		Pool:        m.Pool.ValueString(),
		Replicas:    int(m.Replicas.ValueInt64()),
		MemoryLimit: m.MemoryLimit.ValueString(),
		Threads:     int(m.Threads.ValueInt64()),
		StorageURL:  m.StorageURL.ValueString(),
		RestoreFrom: m.RestoreFrom.ValueString(),
	}
}

// set copies a cluster as the API answered it into the fields. Sizes are
// stored as the API canonicalised them; semantic equality keeps the user's
// spelling where it means the same.
func (m *clusterFields) set(ctx context.Context, c api.Cluster) diag.Diagnostics {
	m.ID = types.StringValue(c.Name)
	m.Name = types.StringValue(c.Name)
	m.Pool = types.StringValue(c.Spec.Pool)
	m.Replicas = types.Int64Value(int64(c.Spec.Replicas))
	m.MemoryLimit = newSize(c.Spec.MemoryLimit)
	m.Threads = types.Int64Value(int64(c.Spec.Threads))
	m.StorageURL = types.StringValue(c.Spec.StorageURL)
	m.RestoreFrom = types.StringNull()
	if c.Spec.RestoreFrom != "" {
		m.RestoreFrom = types.StringValue(c.Spec.RestoreFrom)
	}
	m.Generation = types.Int64Value(c.Generation)
	m.Status = types.StringValue(c.Status.Phase)
	m.StatusMessage = types.StringValue(c.Status.Message)
	m.PrimaryEndpoint = types.StringValue(c.Status.PrimaryEndpoint)
	nodes := make([]clusterNodeModel, 0, len(c.Status.Nodes))
	for _, n := range c.Status.Nodes {
		nodes = append(nodes, clusterNodeModel{
			ID:                 types.StringValue(n.ID),
			Endpoint:           types.StringValue(n.Endpoint),
			Role:               types.StringValue(n.Role),
			Healthy:            types.BoolValue(n.Healthy),
			ObservedGeneration: types.Int64Value(n.ObservedGeneration),
			MemoryLimit:        types.StringValue(n.MemoryLimit),
			Threads:            types.Int64Value(int64(n.Threads)),
		})
	}
	var diags diag.Diagnostics
	m.Nodes, diags = types.ListValueFrom(ctx, types.ObjectType{AttrTypes: clusterNodeAttrTypes}, nodes)
	return diags
}

// nameValidator checks names with the API's own rule.
type nameValidator struct{}

var _ validator.String = nameValidator{}

func (nameValidator) Description(context.Context) string { return "must be " + api.NameRule }

func (v nameValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (nameValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if s := req.ConfigValue.ValueString(); !api.ValidName(s) {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid Name", fmt.Sprintf("%q is not a valid name: use %s.", s, api.NameRule))
	}
}

// importHint tells how to adopt an object that already exists.
func importHint(resourceType, id string) string {
	return fmt.Sprintf("To manage the existing one with Terraform, import it: terraform import %s.<name> %s", resourceType, id)
}

// joinCode writes values as a Markdown list of code spans.
func joinCode(values []string) string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = "`" + v + "`"
	}
	return strings.Join(out, ", ")
}
