#!/usr/bin/env bash
# Builds the rein artifact image (Dockerfile: FROM scratch, only /rein) from a fresh static
# build, and prints the image id and size. Needs no registry: nothing is pulled.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -gt 1 ]; then
  echo "usage: $0 [TAG]   (default TAG: rein:latest)" >&2
  exit 2
fi
tag=${1:-rein:latest}
scripts/build-static.sh >&2
iidfile=$(mktemp)
trap 'rm -f "$iidfile"' EXIT
docker build --iidfile "$iidfile" -t "$tag" . >&2
id=$(cat "$iidfile")
size=$(docker image inspect -f '{{.Size}}' "$id")
echo "$tag $id $size bytes ($((size / 1024)) KiB)"
