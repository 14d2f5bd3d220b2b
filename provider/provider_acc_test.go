package provider

import (
	"regexp"
	"testing"

	"github.com/duckfleet/duckfleet/internal/fleettest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

func TestAccProviderRejectsBadConnection(t *testing.T) {
	f := fleettest.Start(t, fleettest.Options{})
	const nodes = `
data "duckfleet_nodes" "all" {}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      providerBlock(f.ControlPlane.URL, "dfa_not-the-token") + nodes,
				ExpectError: regexp.MustCompile(`Invalid duckfleet Token`),
			},
			{
				Config:      providerBlock("http://127.0.0.1:1", f.AdminToken) + nodes,
				ExpectError: regexp.MustCompile(`Unable to Reach the duckfleet Control Plane`),
			},
			{
				Config:      providerBlock("not a url", f.AdminToken) + nodes,
				ExpectError: regexp.MustCompile(`not an http\(s\) URL`),
			},
		},
	})
}
