#!/usr/bin/env bash
# Builds Lifeboat's container image with Debian's tools only, no registry and no container engine (ADR 011):
# a Debian rootfs from Debian's packages (mmdebstrap) plus the single-file executable, assembled into an OCI image
# layout by umoci.
#
#   npm run build:image              x64 (amd64); needs dist/sea/lifeboat-linux-x64 (npm run build:sea)
#   bash scripts/build-image.sh arm64
#
# Out: dist/image/oci (an OCI layout, tag VERSION-linux-ARCH) and dist/image/lifeboat-VERSION-linux-ARCH.oci.tar.
# Push it with skopeo (README, "Install"):
#   skopeo copy oci-archive:dist/image/lifeboat-0.1.0-linux-x64.oci.tar docker://ghcr.io/OWNER/lifeboat:0.1.0
# The rootfs is cached in ${XDG_CACHE_HOME:-~/.cache}/lifeboat-build/ by its package list: a rebuild takes seconds.
# Root is needed (mmdebstrap's root mode, umoci's file owners); on Debian: apt-get install mmdebstrap umoci.
set -euo pipefail
cd "$(dirname "$0")/.."

arch="${1:-x64}"
case "$arch" in
  x64) debarch=amd64 ;;
  arm64) debarch=arm64 ;;
  *) echo "build-image: unknown architecture $arch (x64 or arm64)" >&2; exit 2 ;;
esac
for tool in mmdebstrap umoci; do
  command -v "$tool" >/dev/null || { echo "build-image: $tool is missing (apt-get install $tool)" >&2; exit 1; }
done
sea="dist/sea/lifeboat-linux-$arch"
[ -x "$sea" ] || { echo "build-image: $sea is missing: npm run build:sea first" >&2; exit 1; }
version="$(node -p 'require("./package.json").version' 2>/dev/null || sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json)"
tag="$version-linux-$arch"

# What the image holds besides Lifeboat: libstdc++6 (Node needs it), etcd-server (the scratch member of restore
# drills, `verify`), etcd-client (etcdctl for an operator in `kubectl exec`), util-linux (nsenter: the agent
# reboots its node through PID 1), ca-certificates (S3 over TLS), tini (PID 1 that reaps the drills' etcd).
packages="libstdc++6,etcd-server,etcd-client,util-linux,ca-certificates,tini"
suite=bookworm
cache="${XDG_CACHE_HOME:-$HOME/.cache}/lifeboat-build"
key="$(printf '%s %s %s' "$suite" "$debarch" "$packages" | sha256sum | cut -c1-16)"
rootfs="$cache/rootfs-$suite-$debarch-$key.tar"
started=$SECONDS
if [ ! -f "$rootfs" ]; then
  mkdir -p "$cache"
  echo "mmdebstrap: Debian $suite $debarch with $packages (once; cached in $rootfs)"
  # The machine's own apt sources (its mirror), when it has the deb822 file; else mmdebstrap's default.
  mirror=()
  [ -f /etc/apt/sources.list.d/debian.sources ] && mirror=(/etc/apt/sources.list.d/debian.sources)
  tmp="$rootfs.$$.tmp.tar" # mmdebstrap picks the format by the extension, and wants no file there yet
  mmdebstrap --quiet --variant=essential --architectures="$debarch" --include="$packages" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
    "$suite" "$tmp" "${mirror[@]}"
  mv "$tmp" "$rootfs" # atomic: a concurrent build sees the whole tarball or none
fi

out=dist/image
rm -rf "$out"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/rootfs"
tar -xf "$rootfs" -C "$work/rootfs" --exclude='./dev/*'
install -D -m 0755 "$sea" "$work/rootfs/usr/local/bin/lifeboat"

umoci init --layout "$out/oci"
umoci new --image "$out/oci:$tag"
umoci insert --image "$out/oci:$tag" --history.created_by "mmdebstrap $suite $packages + lifeboat-linux-$arch" \
  "$work/rootfs" /
umoci config --image "$out/oci:$tag" --architecture "$debarch" --os linux \
  --config.entrypoint /usr/bin/tini --config.entrypoint -- --config.entrypoint /usr/local/bin/lifeboat \
  --config.cmd --help --config.workingdir / --config.env PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
  --config.label "org.opencontainers.image.title=lifeboat" \
  --config.label "org.opencontainers.image.version=$version" \
  --config.label "org.opencontainers.image.source=https://github.com/lifeboat-dev/lifeboat"
umoci gc --layout "$out/oci"
tar -C "$out/oci" -cf "$out/lifeboat-$tag.oci.tar" .
size="$(du -m "$out/lifeboat-$tag.oci.tar" | cut -f1)"
echo "$out/oci:$tag and $out/lifeboat-$tag.oci.tar ($size MiB) in $((SECONDS - started)) s"
