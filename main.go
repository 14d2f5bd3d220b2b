// Command terraform-provider-duckfleet is the duckfleet Terraform provider.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/duckfleet/duckfleet/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
)

// version is set by the build (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()
	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/duckfleet/duckfleet",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}
