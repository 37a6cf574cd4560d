#!/usr/bin/env bash
# Builds the sensor's container image from a built binary:
#   deploy/build-image.sh SENSOR_BINARY LIBONNXRUNTIME TAG [BASE_IMAGE]
# `cargo xtask image` calls it with the release build and models/.venv's
# onnxruntime; tests/deploy_podman.rs with the test build and the local test
# image as BASE (no registry is reachable there). Needs podman.
set -euo pipefail

if [ $# -lt 3 ] || [ $# -gt 4 ]; then
    echo "usage: $0 SENSOR_BINARY LIBONNXRUNTIME TAG [BASE_IMAGE]" >&2
    exit 2
fi
sensor=$1 ort=$2 tag=$3 base=${4:-}
for file in "$sensor" "$ort"; do
    if [ ! -f "$file" ]; then
        echo "build-image: $file does not exist (build the sensor / run 'cargo xtask setup' first)" >&2
        exit 1
    fi
done
if ! command -v podman >/dev/null; then
    echo "build-image: podman is not installed; run 'cargo xtask setup' first" >&2
    exit 1
fi

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
# Hard links when on the same filesystem: the debug binary is large.
cp -l "$sensor" "$context/sensor" 2>/dev/null || cp "$sensor" "$context/sensor"
cp -l "$ort" "$context/libonnxruntime.so.1.31.1" 2>/dev/null || cp "$ort" "$context/libonnxruntime.so.1.31.1"
args=(build --quiet --tag "$tag" --file "$(dirname "$0")/Containerfile")
if [ -n "$base" ]; then
    args+=(--build-arg "BASE=$base")
fi
podman "${args[@]}" "$context" >/dev/null
echo "$tag"
