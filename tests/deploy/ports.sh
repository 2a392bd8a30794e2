# Sourced by the deploy tests that start nodes on 127.0.0.1.
#
# free_base_port COUNT: a base port in [40000, 60000) whose COUNT ports no TCP
# socket uses now (listening, connected or closing), at a random slot so that
# two test runs rarely try the same one. Fails after 200 tries.
free_base_port() {
  local count=$1 used base
  used=$(ss -tanH | awk '{print $4}' | sed -E 's/.*:([0-9]+)$/\1/' | sort -un)
  for _ in $(seq 1 200); do
    base=$((40000 + (RANDOM % ((20000 - count) / count)) * count))
    if ! awk -v lo="$base" -v hi=$((base + count - 1)) '$1 >= lo && $1 <= hi { hit = 1 } END { exit !hit }' <<<"$used"; then
      echo "$base"
      return 0
    fi
  done
  return 1
}
