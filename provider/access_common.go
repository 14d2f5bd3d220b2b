package provider

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/client"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// Default waits of roles and users: until every node enforces the change.
const defaultAccessTimeout = 5 * time.Minute

// accessID is the id of a role or user: "cluster/name".
func accessID(cluster, name string) string { return cluster + "/" + name }

// importAccess splits an import id "cluster/name" into the id, cluster and
// name attributes.
func importAccess(ctx context.Context, kind string, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	cluster, name, ok := strings.Cut(req.ID, "/")
	if !ok || !api.ValidName(cluster) || !api.ValidName(name) {
		resp.Diagnostics.AddError("Invalid Import ID", fmt.Sprintf("%q is not CLUSTER/%s: import a %s as, for example, analytics/reader.", req.ID, strings.ToUpper(kind), kind))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("cluster"), cluster)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), name)...)
}

// waitAccess waits until every node of the cluster enforces access
// generation gen.
func waitAccess(ctx context.Context, c *client.Client, cluster string, gen int64, timeout time.Duration, diags *diag.Diagnostics) {
	if _, err := waitConverged(ctx, c, cluster, target{access: gen}, timeout); err != nil {
		diags.AddError("Change Not Yet in Force on Every Node", err.Error())
	}
}

// accessWriteError reports a failed write of a role or user.
func accessWriteError(diags *diag.Diagnostics, verb, kind, cluster, name string, generation int64, err error) {
	words := strings.Split(kind, "_")
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	title := strings.Join(words, " ")
	kindWords := strings.ReplaceAll(kind, "_", " ")
	switch client.StatusCode(err) {
	case http.StatusConflict:
		diags.AddError(title+" Already Exists", fmt.Sprintf("A %s named %q already exists in cluster %q. %s", kindWords, name, cluster, importHint("duckfleet_"+kind, accessID(cluster, name))))
	case http.StatusPreconditionFailed:
		diags.AddError(title+" Changed Outside Terraform", fmt.Sprintf("The %s %q of cluster %q was changed by someone else after Terraform last read it (generation %d). Run terraform plan again, then apply.\n\n%s", kindWords, name, cluster, generation, apiDetail(err)))
	default:
		diags.AddError(fmt.Sprintf("Unable to %s %s", verb, title), apiDetail(err))
	}
}

// deleteAccess deletes a role or user (already gone is fine) and waits
// until every node of the cluster enforces the deletion.
func deleteAccess(ctx context.Context, c *client.Client, kind, cluster, name string, generation int64, timeout time.Duration,
	del func(ctx context.Context, cluster, name string, ifMatch int64) (api.AccessStat, error), diags *diag.Diagnostics) {
	st, err := del(ctx, cluster, name, generation)
	switch {
	case client.IsNotFound(err):
	case err != nil:
		accessWriteError(diags, "Delete", kind, cluster, name, generation, err)
	default:
		waitAccess(ctx, c, cluster, st.AccessGeneration, timeout, diags)
	}
}

// readOrForget fetches an object for Read. An object gone from the API is
// removed from state, so the next plan re-creates it; any other error
// (403, network) is an error, never a deletion.
func readOrForget[T any](ctx context.Context, resp *resource.ReadResponse, what string, get func() (T, error)) (T, bool) {
	v, err := get()
	if client.IsNotFound(err) {
		tflog.Warn(ctx, what+" no longer exists; removing it from state")
		resp.State.RemoveResource(ctx)
		return v, false
	}
	if err != nil {
		resp.Diagnostics.AddError("Unable to Read "+what, apiDetail(err))
		return v, false
	}
	return v, true
}
