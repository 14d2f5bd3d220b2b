package provider

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"testing"

	"github.com/duckfleet/duckfleet/internal/api"
	"github.com/duckfleet/duckfleet/internal/client"
	"github.com/duckfleet/duckfleet/internal/fleettest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
)

func accessConfig(f *fleettest.Fleet, readerPrivs string, bobVersion int) string {
	return providerConfig(f) + fmt.Sprintf(`
resource "duckfleet_cluster" "test" {
  name = "shop"
}

resource "duckfleet_role" "writer" {
  cluster       = duckfleet_cluster.test.name
  name          = "writer"
  privileges    = ["SELECT", "INSERT", "CREATE"]
  query_timeout = "60s"
}

resource "duckfleet_role" "reader" {
  cluster         = duckfleet_cluster.test.name
  name            = "reader"
  privileges      = %[1]s
  max_result_rows = 1000
  schemas         = ["main"]
}

resource "duckfleet_user" "ann" {
  cluster = duckfleet_cluster.test.name
  name    = "ann"
  roles   = [duckfleet_role.writer.name]
}

resource "duckfleet_user" "bob" {
  cluster       = duckfleet_cluster.test.name
  name          = "bob"
  roles         = [duckfleet_role.reader.name]
  token_version = %[2]d
}
`, readerPrivs, bobVersion)
}

// queryCheck runs queries against the cluster's primary with users'
// tokens from the state, and checks each status.
type queryCheck struct {
	t       *testing.T
	queries []query
	// tokens remembers each user's token as last seen, for later steps.
	tokens map[string]string
}

type query struct {
	user string // a duckfleet_user resource name, or "old:<name>" for its previous token
	sql  string
	want int
}

func (c *queryCheck) CheckState(ctx context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	values := map[string]map[string]any{}
	for _, r := range req.State.Values.RootModule.Resources {
		values[r.Address] = r.AttributeValues
	}
	endpoint, _ := values["duckfleet_cluster.test"]["primary_endpoint"].(string)
	current := map[string]string{}
	for _, u := range []string{"ann", "bob"} {
		current[u], _ = values["duckfleet_user."+u]["token"].(string)
	}
	for _, q := range c.queries {
		tok := current[q.user]
		if old, ok := cutPrefix(q.user, "old:"); ok {
			tok = c.tokens[old]
		}
		_, err := client.Query(ctx, nil, endpoint, tok, api.QueryRequest{SQL: q.sql})
		got := http.StatusOK
		if err != nil {
			got = client.StatusCode(err)
		}
		if got != q.want {
			resp.Error = fmt.Errorf("%s: %q answered %d (%v), want %d", q.user, q.sql, got, err, q.want)
			return
		}
	}
	for u, tok := range current {
		if tok != "" {
			c.tokens[u] = tok
		}
	}
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return s, false
}

func TestAccRolesAndUsers(t *testing.T) {
	t.Parallel()
	f := fleettest.Start(t, fleettest.Options{Agents: 1})
	tokens := map[string]string{}
	check := func(qs ...query) statecheck.StateCheck { return &queryCheck{t: t, queries: qs, tokens: tokens} }
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		CheckDestroy:             checkClusterDestroyed(f),
		Steps: []resource.TestStep{
			// One spelling of each privilege, asked for at plan time.
			{
				Config:      accessConfig(f, `["select"]`, 1),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)privileges.*value must be one of`),
			},
			{
				Config:      accessConfig(f, `["SELECT", "ATTACH"]`, 1),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)value must be one of`),
			},
			{
				Config: accessConfig(f, `["SELECT"]`, 1),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("duckfleet_role.writer", jpath("id"), knownvalue.StringExact("shop/writer")),
					statecheck.ExpectKnownValue("duckfleet_role.writer", jpath("query_timeout"), knownvalue.StringExact("60s")),
					statecheck.ExpectKnownValue("duckfleet_user.ann", jpath("token"), knownvalue.StringRegexp(regexp.MustCompile(`^dfu_`))),
					check(
						query{"ann", "CREATE TABLE sales (id INTEGER, amount INTEGER)", 200},
						query{"ann", "CREATE SCHEMA hr", 200},
						query{"ann", "CREATE TABLE hr.pay (id INTEGER)", 200},
						query{"ann", "INSERT INTO hr.pay VALUES (1)", 200},
						query{"bob", "SELECT * FROM hr.pay", 403},
						query{"ann", "INSERT INTO sales VALUES (1, 10)", 200},
						query{"ann", "DELETE FROM sales", 403},
						query{"bob", "SELECT * FROM sales", 200},
						query{"bob", "INSERT INTO sales VALUES (2, 20)", 403},
						query{"bob", "SELECT 1; SELECT 2", 400},
						query{"bob", "SELECT * FROM read_csv('/etc/passwd')", 403},
					),
				},
			},
			{
				// A role change is in force on the node when apply returns.
				Config: accessConfig(f, `["SELECT", "DELETE"]`, 1),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("duckfleet_role.reader", jpath("generation"), knownvalue.Int64Exact(2)),
					check(query{"bob", "DELETE FROM sales WHERE id = 99", 200}, query{"bob", "DELETE FROM hr.pay", 403}),
				},
			},
			{
				// Rotating bob's token revokes the old one.
				Config: accessConfig(f, `["SELECT", "DELETE"]`, 2),
				ConfigStateChecks: []statecheck.StateCheck{
					check(
						query{"old:bob", "SELECT 1", 401},
						query{"bob", "SELECT count(*) FROM sales", 200},
						query{"ann", "SELECT 1", 200},
					),
				},
			},
			{
				ResourceName:            "duckfleet_role.reader",
				ImportState:             true,
				ImportStateId:           "shop/reader",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
			{
				// The token cannot be imported; everything else can.
				ResourceName:            "duckfleet_user.bob",
				ImportState:             true,
				ImportStateId:           "shop/bob",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts", "token", "token_version"},
			},
		},
	})
}

// ephemeralQueryCheck queries the cluster's primary with the token the
// echo provider carried into state: SELECT works, DELETE is refused.
type ephemeralQueryCheck struct{}

func (ephemeralQueryCheck) CheckState(ctx context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	values := map[string]map[string]any{}
	for _, r := range req.State.Values.RootModule.Resources {
		values[r.Address] = r.AttributeValues
	}
	endpoint, _ := values["duckfleet_cluster.test"]["primary_endpoint"].(string)
	tok, _ := values["echo.token"]["data"].(string)
	for sql, want := range map[string]int{"SELECT 42": 200, "CREATE TABLE x (a INT)": 403} {
		_, err := client.Query(ctx, nil, endpoint, tok, api.QueryRequest{SQL: sql})
		got := http.StatusOK
		if err != nil {
			got = client.StatusCode(err)
		}
		if got != want {
			resp.Error = fmt.Errorf("%q with the short-lived token answered %d (%v), want %d", sql, got, err, want)
			return
		}
	}
}
