#!/usr/bin/env bash
# Makes sure the podman image used by the container tests exists, building it
# once from a debootstrap rootfs if it does not, and prints its name on stdout
# (progress goes to stderr). Safe to call from many tests at once: a lock makes
# the first caller build and the others wait for it.
#
#   image=$(tests/support/test-image.sh)
#   podman run --rm "$image" /usr/bin/python3 -c 'print(1)'
#
# `cargo xtask setup` calls this too. Needs root, podman and debootstrap
# (all installed by `cargo xtask setup`).
set -euo pipefail

image="${SENSOR_TEST_IMAGE:-localhost/sensor-test:bookworm}"
suite=bookworm
mirror="${SENSOR_TEST_MIRROR:-http://deb.debian.org/debian}"

for tool in podman debootstrap flock; do
    if ! command -v "$tool" >/dev/null; then
        echo "test-image: '$tool' is not installed; run 'cargo xtask setup' first" >&2
        exit 1
    fi
done

lock=/run/lock/sensor-test-image.lock
mkdir -p "$(dirname "$lock")"
exec 9>"$lock"
flock 9

if podman image exists "$image"; then
    echo "$image"
    exit 0
fi

rootfs=$(mktemp -d /var/tmp/sensor-test-rootfs.XXXXXX)
cleanup() {
    # debootstrap mounts proc/sys inside the rootfs; never let rm walk into them.
    for m in dev/pts dev sys proc; do
        if mountpoint -q "$rootfs/$m" 2>/dev/null; then umount -l "$rootfs/$m" || true; fi
    done
    rm -rf --one-file-system "$rootfs"
}
trap cleanup EXIT

echo "test-image: debootstrap $suite into $rootfs (about 30 s)" >&2
if ! debootstrap --variant=minbase --include=bash,dash,python3-minimal \
        "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1; then
    echo "test-image: debootstrap failed; last lines of $rootfs.log:" >&2
    tail -n 20 "$rootfs.log" >&2
    exit 1
fi
rm -f "$rootfs.log"

echo "test-image: importing rootfs as $image" >&2
tar -C "$rootfs" -c . | podman import --quiet --change 'CMD ["/bin/bash"]' - "$image" >/dev/null
echo "$image"
