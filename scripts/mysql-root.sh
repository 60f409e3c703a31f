#!/usr/bin/env bash
# Prints the path of a small Debian unstable root holding Oracle MySQL's server and clients (9.x), building it into the
# test cache first when it is missing. Debian stable ships no MySQL server; unstable has mysql-server-core and
# mysql-client-core. Nothing in the host system changes: the root is a cache of the project, rebuilt when missing.
#
# The root gets wrappers in ROOT/lifeboat-bin/ (mysqld, mysqldump, mysql) that run its programs on the host's file
# system through the root's own dynamic loader and libraries (no chroot: option files, data directories and sockets
# keep their host paths). Lifeboat takes such wrappers like any binary (LIFEBOAT_MYSQLD, LIFEBOAT_MYSQLDUMP,
# LIFEBOAT_MYSQL or mysqlTools in lifeboat.yaml; docs/adr/014-mysql-programs.md).
#
#   scripts/mysql-root.sh            # build if missing, print the root
#   MYSQL_ROOT_MIRROR=http://... scripts/mysql-root.sh
set -euo pipefail

cache="${XDG_CACHE_HOME:-$HOME/.cache}/lifeboat-test"
root="$cache/mysql-root"
if [ -x "$root/lifeboat-bin/mysqld" ]; then
  echo "$root"
  exit 0
fi
export PATH="$PATH:/usr/sbin:/sbin"
if ! command -v mmdebstrap >/dev/null; then
  echo "mysql-root: mmdebstrap is missing (Debian: apt-get install mmdebstrap)" >&2
  exit 1
fi

# The mirror this machine already uses (deb822 .sources or a one-line sources.list), not the security archive.
mirror="${MYSQL_ROOT_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror=$(
    {
      grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{for (i = 2; i <= NF; i++) print $i}'
      grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        sed -E 's/^deb (\[[^]]*\] )?//' | awk '{print $1}'
    } | grep -E '/debian/?$' | grep -v security | head -n 1 || true
  )
fi
mirror="${mirror:-http://deb.debian.org/debian}"

mkdir -p "$cache"
work=$(mktemp -d "$cache/mysql-root.tmp.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "mysql-root: building a Debian sid root with MySQL from $mirror (a few minutes, once)" >&2
# The mirror's unstable Release file may be past its Valid-Until date (snapshot mirrors): accept it.
mmdebstrap --quiet --variant=essential --include=mysql-server-core,mysql-client-core \
  --aptopt='Acquire::Check-Valid-Until "false"' sid "$work/root" "deb $mirror sid main" >&2

# Wrappers: the root's loader with the root's libraries, so its programs run with host paths.
r="$work/root"
loader="" libdir=""
for f in "$r"/lib64/ld-linux-*.so.* "$r"/lib/ld-linux-*.so.*; do [ -e "$f" ] && loader=${f#"$r"/} && break; done
for d in "$r"/usr/lib/*-linux-gnu; do [ -d "$d" ] && libdir=${d#"$r"/} && break; done
if [ -z "$loader" ] || [ -z "$libdir" ]; then
  echo "mysql-root: no dynamic loader or library directory in the built root" >&2
  exit 1
fi
mkdir -p "$r/lifeboat-bin"
wrapper() { # NAME PROGRAM [ARGS INSERTED AFTER --no-defaults]
  local name=$1 program=$2
  shift 2
  {
    echo '#!/bin/sh'
    echo '# Runs the MySQL root'"'"'s '"$name"' with host paths (scripts/mysql-root.sh).'
    echo 'R=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)'
    if [ $# -gt 0 ]; then
      # mysqld wants --no-defaults first; its message and plugin files live in the root.
      echo 'if [ "${1:-}" = --no-defaults ]; then shift; set -- --no-defaults '"$*"' "$@"; fi'
    fi
    echo 'exec "$R/'"$loader"'" --library-path "$R/'"$libdir"':$R/lib/'"${libdir#usr/lib/}"'" "$R/'"$program"'" "$@"'
  } >"$r/lifeboat-bin/$name"
  chmod 0755 "$r/lifeboat-bin/$name"
}
wrapper mysqld usr/sbin/mysqld '--lc-messages-dir="$R/usr/share/mysql" --plugin-dir="$R/usr/lib/mysql/plugin" --character-sets-dir="$R/usr/share/mysql/charsets"'
wrapper mysqldump usr/bin/mysqldump
wrapper mysql usr/bin/mysql
"$r/lifeboat-bin/mysqld" --version >&2

# Atomic: another build that finished first wins, and ours is thrown away.
if ! mv -T "$r" "$root" 2>/dev/null; then
  [ -x "$root/lifeboat-bin/mysqld" ] || {
    echo "mysql-root: cannot move the root into $root" >&2
    exit 1
  }
fi
echo "$root"
