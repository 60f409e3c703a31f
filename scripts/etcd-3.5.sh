#!/usr/bin/env bash
# Fetches etcd 3.5 (etcd, etcdctl, etcdutl) from Debian unstable into a cache folder and prints that folder's bin
# directory, so tests can run against 3.5 next to the distribution's 3.4 by PATH:
#   PATH="$(bash scripts/etcd-3.5.sh):$PATH" npx vitest run test/integration/recover.test.ts
# Debian stable ships etcd 3.4 while kubeadm clusters run 3.5, and the restore path differs (etcdutl, --bump-revision,
# --mark-compacted), so CI tests both. The system's apt state is never touched: a separate sources list, lists dir and
# cache dir in a temp folder, and `apt-get download` + `dpkg -x` (no install). Unstable's Release file is often past its
# Valid-Until on mirrors, hence Check-Valid-Until=false; signatures are still checked against Debian's archive keyring.
# The cache is built beside its final path and renamed into place, so two runs at once never see half a folder.
# Progress goes to stderr; stdout is only the bin directory.
set -euo pipefail

cache="${XDG_CACHE_HOME:-$HOME/.cache}/lifeboat-test/etcd-3.5"
bin="$cache/bin"

# (Not `etcd --version | grep -q`: grep's early exit kills etcd with SIGPIPE, and pipefail counts that as a failure.)
is_35() { case "$("$1" --version 2>/dev/null)" in "etcd Version: 3.5."*) return 0 ;; *) return 1 ;; esac; }

if [ -x "$bin/etcd" ] && [ -x "$bin/etcdctl" ] && [ -x "$bin/etcdutl" ] && is_35 "$bin/etcd"; then
  echo "$bin"
  exit 0
fi

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
if [ ! -f "$keyring" ]; then
  echo "etcd-3.5: $keyring is missing (apt-get install debian-archive-keyring); it signs Debian unstable" >&2
  exit 1
fi

# The mirror this machine already uses for Debian (CI machines may be behind a local mirror), from either sources
# format; LIFEBOAT_DEBIAN_MIRROR overrides it.
system_mirror() {
  local files=() f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && files+=("$f")
  done
  ((${#files[@]})) || return 0
  {
    sed -n 's/^[[:space:]]*URIs:[[:space:]]*//p' "${files[@]}" | tr ' ' '\n'
    sed -n 's/^[[:space:]]*deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\2/p' "${files[@]}"
  } | grep -E '/debian/?$' | head -n 1 | sed 's:/*$::'
}
mirror="${LIFEBOAT_DEBIAN_MIRROR:-$(system_mirror)}"
mirror="${mirror:-http://deb.debian.org/debian}"

work="$(mktemp -d "${TMPDIR:-/tmp}/lifeboat-etcd-3.5.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
echo "deb [signed-by=$keyring] $mirror unstable main" >"$work/unstable.list"
apt_opts=(
  -o "Dir::Etc::sourcelist=$work/unstable.list"
  -o "Dir::Etc::sourceparts=-"
  -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache=$work/cache"
  -o "Acquire::Check-Valid-Until=false"
  -o "APT::Sandbox::User=$(id -un)" # our own temp dirs: no need to drop to _apt (which could not write them)
)

echo "etcd-3.5: reading Debian unstable's package list from $mirror" >&2
apt-get "${apt_opts[@]}" -q update >&2
# Unstable may move on to 3.6 one day: take its 3.5 version, and say so clearly when there is none.
version="$(apt-cache "${apt_opts[@]}" madison etcd-server | awk -F'|' '{gsub(/ /, "", $2); print $2}' | grep -m1 '^3\.5\.' || true)"
if [ -z "$version" ]; then
  echo "etcd-3.5: Debian unstable at $mirror has no etcd-server 3.5.x any more (set LIFEBOAT_DEBIAN_MIRROR to a snapshot.debian.org archive)" >&2
  exit 1
fi
echo "etcd-3.5: downloading etcd-server and etcd-client $version" >&2
(cd "$work/debs" && apt-get "${apt_opts[@]}" -q download "etcd-server=$version" "etcd-client=$version" >&2)

mkdir -p "$(dirname "$cache")"
staging="$(mktemp -d "$cache.new.XXXXXX")"
mkdir -p "$work/root" "$staging/bin"
for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$work/root"; done
for tool in etcd etcdctl etcdutl; do
  install -m 0755 "$work/root/usr/bin/$tool" "$staging/bin/$tool"
done
is_35 "$staging/bin/etcd" || { echo "etcd-3.5: the downloaded etcd does not report version 3.5" >&2; rm -rf "$staging"; exit 1; }
echo "$version" >"$staging/VERSION"
chmod 0755 "$staging"

# Atomic publish: rename onto a missing name. If another run won the race, keep theirs.
if [ -e "$cache" ]; then
  old="$(mktemp -d "$cache.old.XXXXXX")"
  mv -T "$cache" "$old/etcd-3.5" 2>/dev/null || true
  rm -rf "$old"
fi
if ! mv -T "$staging" "$cache" 2>/dev/null; then rm -rf "$staging"; fi
is_35 "$bin/etcd" || { echo "etcd-3.5: $bin/etcd is not etcd 3.5 after the fetch" >&2; exit 1; }
echo "etcd-3.5: $("$bin/etcd" --version | head -n 1) in $bin" >&2
echo "$bin"
