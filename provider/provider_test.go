package provider

import (
	"fmt"
	"testing"

	"github.com/duckfleet/duckfleet/internal/fleettest"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

func TestMain(m *testing.M) { fleettest.Main(m) }

var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"duckfleet": providerserver.NewProtocol6WithError(New("test")()),
}

// providerConfig points the provider at a fleet.
func providerConfig(f *fleettest.Fleet) string {
	return providerBlock(f.ControlPlane.URL, f.AdminToken)
}

func providerBlock(endpoint, token string) string {
	return fmt.Sprintf(`
provider "duckfleet" {
  endpoint = %[1]q
  token    = %[2]q
}
`, endpoint, token)
}
