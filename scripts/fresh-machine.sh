#!/usr/bin/env bash
# Runs a command in a brand-new Debian 12 root: the README's "on a fresh machine" promise, checked on any Debian host.
#   sudo bash scripts/fresh-machine.sh DIR                      # npm run quickstart in DIR/rootfs
#   sudo bash scripts/fresh-machine.sh DIR 'npx vitest run test/unit'
# DIR/rootfs is made once with mmdebstrap (variant apt: Essential + apt, plus ca-certificates and git) from this
# machine's Debian mirror; this machine's node and npm are copied in (a fresh machine "with Node.js 20"), and the repo's
# committed HEAD is cloned to /root/lifeboat (nothing uncommitted, no node_modules). The command runs in chroot inside
# a private mount namespace: /proc, /sys and /dev are mounted there only and vanish with it, so `rm -rf DIR` afterwards
# never reaches into the host. The command's processes share the host's PID and network namespaces (a lab left
# running keeps running: `lab down` it). Extra CA certificates and npmrc of this host (a proxy) are copied in too.
set -euo pipefail
dir="$(realpath -m "${1:?usage: fresh-machine.sh DIR [COMMAND]}")"
command="${2:-npm run quickstart}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
root="$dir/rootfs"
[ "$(id -u)" -eq 0 ] || { echo "fresh-machine: needs root (mmdebstrap, chroot, mounts)" >&2; exit 2; }
node="$(command -v node)"
npm_dir="$(dirname "$(dirname "$node")")/lib/node_modules/npm"
[ -d "$npm_dir" ] || { echo "fresh-machine: npm not found beside $node ($npm_dir)" >&2; exit 2; }

if [ ! -x "$root/usr/bin/node" ]; then
  mirror="$(sed -n 's/^[[:space:]]*URIs:[[:space:]]*\(.*\/debian\)\/\?$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)"
  mirror="${mirror:-http://deb.debian.org/debian}"
  mkdir -p "$dir"
  rm -rf "$root.tmp"
  mmdebstrap --variant=apt --include=ca-certificates,git bookworm "$root.tmp" \
    "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
    "deb ${mirror%/debian}/debian-security bookworm-security main" >&2
  cp "$node" "$root.tmp/usr/bin/node"
  mkdir -p "$root.tmp/usr/lib/node_modules"
  cp -a "$npm_dir" "$root.tmp/usr/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root.tmp/usr/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root.tmp/usr/bin/npx"
  cp /etc/resolv.conf "$root.tmp/etc/resolv.conf"
  # What Debian's installer writes and mmdebstrap does not (mariadb-install-db refuses to run without localhost).
  printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root.tmp/etc/hosts"
  if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$root.tmp/usr/local/share/ca-certificates/"
    chroot "$root.tmp" update-ca-certificates >/dev/null
  fi
  for rc in /etc/npmrc /usr/etc/npmrc; do
    [ -f "$rc" ] && mkdir -p "$root.tmp$(dirname "$rc")" && cp "$rc" "$root.tmp$rc"
  done
  git clone -q "$repo" "$root.tmp/root/lifeboat"
  mv "$root.tmp" "$root"
fi

exec unshare --mount --propagation private bash -c '
set -e
root="$1"; shift
mount --bind "$root" "$root"   # / is a mount point, as on a real machine (unshare --mount inside needs it)
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
exec chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin bash -c "cd /root/lifeboat && $1"
' fresh-machine "$root" "$command"
