package provider

import (
	"regexp"
	"testing"

	"github.com/duckfleet/duckfleet/internal/fleettest"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/echoprovider"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// TestAccQueryToken issues a short-lived token through the ephemeral
// resource, carries it out with the echo provider (ephemeral values never
// reach state otherwise), and queries the node with it.
func TestAccQueryToken(t *testing.T) {
	t.Parallel()
	f := fleettest.Start(t, fleettest.Options{Agents: 1})
	base := providerConfig(f) + `
resource "duckfleet_cluster" "test" {
  name = "eph"
}

resource "duckfleet_role" "reader" {
  cluster    = duckfleet_cluster.test.name
  name       = "reader"
  privileges = ["SELECT"]
}

resource "duckfleet_user" "pipeline" {
  cluster = duckfleet_cluster.test.name
  name    = "pipeline"
  roles   = [duckfleet_role.reader.name]
}
`
	factories := map[string]func() (tfprotov6.ProviderServer, error){
		"duckfleet": testAccProtoV6ProviderFactories["duckfleet"],
		"echo":      echoprovider.NewProviderServer(),
	}
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_10_0)},
		ProtoV6ProviderFactories: factories,
		Steps: []resource.TestStep{
			{
				Config: base + `
ephemeral "duckfleet_query_token" "bad" {
  cluster = duckfleet_cluster.test.name
  user    = duckfleet_user.pipeline.name
  ttl     = "2d"
}

provider "echo" {
  data = ephemeral.duckfleet_query_token.bad.token
}

resource "echo" "token" {}
`,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid Duration.*"2d" is not a duration`),
			},
			{Config: base},
			{
				Config: base + `
ephemeral "duckfleet_query_token" "pipeline" {
  cluster = duckfleet_cluster.test.name
  user    = duckfleet_user.pipeline.name
  ttl     = "5m"
}

provider "echo" {
  data = ephemeral.duckfleet_query_token.pipeline.token
}

resource "echo" "token" {}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("echo.token", jpath("data"), knownvalue.StringRegexp(regexp.MustCompile(`^dfq_`))),
					&ephemeralQueryCheck{},
				},
			},
		},
	})
}
