#!/usr/bin/env bash
# Builds the static rein and runs a short demo under it as PID 1 of a fresh PID namespace:
# the main child leaves orphans behind (rein reaps them), asks PID 1 to deliver SIGUSR1
# (rein forwards it to the child's group), and exits 3 (rein exits 3 too).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -ne 0 ]; then
  echo "usage: $0" >&2
  exit 2
fi
bin=$(scripts/build-static.sh | awk '{print $1}')
ns=(unshare --pid --fork --mount-proc)
if [ "$(id -u)" -ne 0 ]; then
  ns=(unshare --user --map-root-user --pid --fork --mount-proc)
fi
child='
trap "echo \"[child] SIGUSR1 arrived: rein forwarded it\"" USR1
echo "[child] I am pid $$; rein is pid 1"
for i in 1 2 3; do sh -c "sleep 0.2 &"; done
echo "[child] left 3 orphans behind; their parents are gone, so rein adopts them"
sleep 0.6
echo "[child] the orphans have exited; zombies left: $(grep -l "^State:.Z" /proc/[0-9]*/status 2>/dev/null | wc -l)"
echo "[child] sending SIGUSR1 to pid 1 (a PID 1 without a handler would drop it)"
kill -USR1 1
sleep 1 & wait $!
wait
echo "[child] exiting with 3"
exit 3
'
echo "\$ ${ns[*]} $bin -vv -- sh -c '...'"
set +e
"${ns[@]}" "$bin" -vv -- sh -c "$child"
code=$?
set -e
echo "rein exited with $code (the child's status)"
