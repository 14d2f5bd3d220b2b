# The endpoint and token can also come from DUCKFLEET_ENDPOINT and
# DUCKFLEET_TOKEN; keep the token out of your configuration files.
provider "duckfleet" {
  endpoint = "http://127.0.0.1:8470"
}
