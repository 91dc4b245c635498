#!/usr/bin/env bash
# Two Open MPI ranks on two "hosts" made of network namespaces joined by a veth pair, so the job's traffic (the
# launcher's and the gradient exchange) crosses a real TCP path; checks that `lathe train` on the tiny test model
# gives the adapter one process gives, byte for byte. Needs root (ip netns, unshare), mpirun and a built lathe.
#
#   sudo Scripts/checks/netns_two_hosts.sh [.build/debug/lathe]
#
# Host A (namespace lathe-a, host name lathe-a) holds 10.77.0.1 and runs mpirun; host B (lathe-b, 10.77.0.2) gets
# its Open MPI daemon through a launch agent that enters B's namespaces, as ssh would enter a remote machine.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
lathe=$(realpath "${1:-$root/.build/debug/lathe}")
model="$root/Tests/LatheModelsTests/Fixtures/tiny-llama/tiny-llama-F32.gguf"
work=$(mktemp -d /tmp/lathe-netns.XXXXXX)
[ "$(id -u)" -eq 0 ] || { echo "run as root (network namespaces)" >&2; exit 2; }
[ -x "$lathe" ] || { echo "no lathe binary at $lathe; build it first (swift build)" >&2; exit 2; }
command -v mpirun >/dev/null || { echo "mpirun missing; run Scripts/install-deps.sh" >&2; exit 2; }

remove_namespaces() {
  ip netns del lathe-a 2>/dev/null || true
  ip netns del lathe-b 2>/dev/null || true
}
trap 'remove_namespaces; rm -rf "$work"' EXIT
remove_namespaces   # left over from an interrupted run

ip netns add lathe-a
ip netns add lathe-b
ip link add lathe-va type veth peer name lathe-vb
ip link set lathe-va netns lathe-a
ip link set lathe-vb netns lathe-b
ip -n lathe-a addr add 10.77.0.1/24 dev lathe-va
ip -n lathe-b addr add 10.77.0.2/24 dev lathe-vb
for ns in lathe-a lathe-b; do
  ip -n "$ns" link set lo up
done
ip -n lathe-a link set lathe-va up
ip -n lathe-b link set lathe-vb up

# The launch agent: Open MPI calls it as `agent HOST COMMAND…` (like ssh). It enters HOST's namespace and gives
# it its own host name, so the ranks report two hosts.
cat > "$work/agent.sh" <<'EOF'
#!/usr/bin/env bash
host=$1; shift
case "$host" in
  10.77.0.1) ns=lathe-a ;;
  10.77.0.2) ns=lathe-b ;;
  *) echo "agent: unknown host $host" >&2; exit 1 ;;
esac
exec ip netns exec "$ns" unshare --uts sh -c "hostname $ns; $*"
EOF
chmod +x "$work/agent.sh"
printf '10.77.0.1 slots=1\n10.77.0.2 slots=1\n' > "$work/hostfile"

for i in $(seq 0 23); do echo "{\"text\": \"Line $i: gauge $((i * 5)) reads $((i + 1)) bar at site $((i % 3)).\"}"; done > "$work/train.jsonl"
args=(train --model "$model" --data "$work/train.jsonl" --rank 4 --batch-size 2 --grad-accum 4 --max-length 32
      --max-steps 4 --dropout 0.1 --threads 1 --train-on all)

# mpirun on host A, one rank per host, TCP over the veth pair only.
across() {
  ip netns exec lathe-a unshare --uts sh -c "hostname lathe-a; exec mpirun --allow-run-as-root --hostfile $work/hostfile \
    -np 2 --mca plm_rsh_agent $work/agent.sh --mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 \
    --mca oob_tcp_if_include 10.77.0.0/24 --bind-to none -x PATH $*"
}
echo "ranks run on: $(across hostname | sort | tr '\n' ' ')"

"$lathe" "${args[@]}" --out "$work/single" >/dev/null
start=$(date +%s.%N)
across "$lathe" "${args[*]}" --out "$work/two-hosts" > "$work/two-hosts.log" 2>&1 || { cat "$work/two-hosts.log"; exit 1; }
end=$(date +%s.%N)

if cmp -s "$work/single/adapter_model.safetensors" "$work/two-hosts/adapter_model.safetensors"; then
  echo "netns two hosts: adapter identical to one process ($(stat -c %s "$work/single/adapter_model.safetensors") bytes, sha256 $(sha256sum "$work/single/adapter_model.safetensors" | cut -c1-16)…), mpirun $(echo "$end - $start" | bc) s"
else
  echo "netns two hosts: adapters DIFFER" >&2
  cat "$work/two-hosts.log" >&2
  exit 1
fi
