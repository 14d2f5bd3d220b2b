#!/usr/bin/env bash
# Prints the path of a Terraform CLI, installing one into .tools/ when none
# is on PATH. Terraform >= 1.11 is best (write-only attributes, ephemeral
# resources); without network access to a Terraform download site, the last
# MPL-licensed release is built from the Go module proxy (about 3 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v terraform >/dev/null 2>&1; then
  command -v terraform
  exit 0
fi
tools="$PWD/.tools"
if [ ! -x "$tools/terraform" ]; then
  echo "terraform is not on PATH: building github.com/hashicorp/terraform@v1.5.7 into $tools (takes a few minutes; install Terraform >= 1.11 to skip this)" >&2
  GOBIN="$tools" go install github.com/hashicorp/terraform@v1.5.7 >&2
fi
echo "$tools/terraform"
