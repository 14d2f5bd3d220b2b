#!/usr/bin/env bash
# make demo: a local fleet (one control plane, two agents, file:// storage)
# under ./.demo, applied with Terraform from examples/quickstart. Leaves the
# fleet running; `make demo-down` stops it and removes ./.demo. Running it
# again re-uses the fleet (restarting any stopped process) and re-applies.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
demo=$root/.demo
bin=$root/bin
cp_addr=${DUCKFLEET_DEMO_LISTEN:-127.0.0.1:8470}
agent_ports=(8471 8472)
terraform=$(scripts/terraform-path.sh)

mkdir -p "$demo"

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

launch() { # name, address file it writes when listening, then the command
  local name=$1 addrfile=$2; shift 2
  if alive "$demo/$name.pid"; then
    echo "$name is already running (pid $(cat "$demo/$name.pid"))"
    return
  fi
  rm -f "$demo/$name/$addrfile"
  if command -v setsid >/dev/null 2>&1; then
    setsid "$@" >>"$demo/$name.log" 2>&1 < /dev/null &
  else
    nohup "$@" >>"$demo/$name.log" 2>&1 < /dev/null &
  fi
  echo $! > "$demo/$name.pid"
  echo "started $name (pid $!, log $demo/$name.log)"
}

wait_file() { # path, process name
  for _ in $(seq 1 200); do
    [ -s "$1" ] && return 0
    if ! alive "$demo/$2.pid"; then
      echo "$2 exited; its log says:" >&2
      tail -n 20 "$demo/$2.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "timed out waiting for $1" >&2
  exit 1
}

launch controlplane controlplane.addr "$bin/duckfleet-controlplane" --listen "$cp_addr" --data-dir "$demo/controlplane" \
  --default-storage-url "file://$demo/storage?create_dir=true"
wait_file "$demo/controlplane/controlplane.addr" controlplane
wait_file "$demo/controlplane/admin.token" controlplane
mkdir -p "$demo/storage"

for i in 1 2; do
  port=${agent_ports[$((i-1))]}
  launch "agent$i" agent.addr "$bin/duckfleet-agent" --controlplane "http://$cp_addr" \
    --join-token-file "$demo/controlplane/join.token" --pool default \
    --data-dir "$demo/agent$i" --listen "127.0.0.1:$port" \
    --storage-url "file://$demo/storage?create_dir=true"
done
for i in 1 2; do
  wait_file "$demo/agent$i/agent.addr" "agent$i"
done

cat > "$demo/terraformrc" <<RC
provider_installation {
  dev_overrides {
    "duckfleet/duckfleet" = "$bin"
  }
  direct {}
}
RC
mkdir -p "$demo/terraform"
cp examples/quickstart/*.tf "$demo/terraform/"

export TF_CLI_CONFIG_FILE="$demo/terraformrc"
export CHECKPOINT_DISABLE=1
export DUCKFLEET_ENDPOINT="http://$cp_addr"
DUCKFLEET_TOKEN=$(cat "$demo/controlplane/admin.token")
export DUCKFLEET_TOKEN
cd "$demo/terraform"
"$terraform" apply -auto-approve -input=false -compact-warnings
cat <<MSG

== the duckfleet demo is running (the outputs above are the cluster's status and endpoints) ==

Control plane: http://$cp_addr   (log: $demo/controlplane.log)
Agents:        ${agent_ports[*]/#/127.0.0.1:}   (logs: $demo/agent1.log, $demo/agent2.log)
Admin token:   $demo/controlplane/admin.token   (join token: $demo/controlplane/join.token)
Storage:       file://$demo/storage   (each agent writes nodes/<id>/agent.json there on start)
Terraform:     cd $demo/terraform && TF_CLI_CONFIG_FILE=$demo/terraformrc \\
                 DUCKFLEET_ENDPOINT=http://$cp_addr DUCKFLEET_TOKEN=\$(cat $demo/controlplane/admin.token) terraform plan
Query it:      cd $demo/terraform && eval "\$(TF_CLI_CONFIG_FILE=$demo/terraformrc terraform output -raw try_a_query)"
Stop it with:  make demo-down
MSG
