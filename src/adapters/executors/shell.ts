// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are bash, where ${...} is bash's own expansion
/**
 * Bash shared by every runbook script: done markers (a re-run skips finished steps), polling with a deadline, etcdctl
 * with the node's certificates, and two flag editors (one flag per line in a static pod manifest; one command line in
 * a systemd unit). Tested by running them on the fixtures in test/fixtures/executors.
 */

/** Single-quote for bash. */
export function q(value: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface PreludeOptions {
  stateDir: string;
  tls: { cacert?: string; cert?: string; key?: string };
  dataDir: string;
}

export function commonPrelude(o: PreludeOptions): string[] {
  const tls = [
    o.tls.cacert && `--cacert=${q(o.tls.cacert)}`,
    o.tls.cert && `--cert=${q(o.tls.cert)}`,
    o.tls.key && `--key=${q(o.tls.key)}`,
  ].filter(Boolean);
  return [
    'set -euo pipefail',
    `LB_STATE=${q(o.stateDir)}`,
    `LB_DATA=${q(o.dataDir)}`,
    'mkdir -p "$LB_STATE"',
    'lb_done() { [ -e "$LB_STATE/$1" ]; }',
    'lb_mark() { date -u +%FT%TZ > "$LB_STATE/$1"; }',
    'lb_say() { printf \'%s == %s\\n\' "$(date -u +%T)" "$*"; }',
    '# lb_wait SECONDS WHAT COMMAND...: poll COMMAND every 2 s until it succeeds; give up after SECONDS.',
    'lb_wait() {',
    '  local limit=$1 what=$2 start=$SECONDS; shift 2',
    '  until "$@" >/dev/null 2>&1; do',
    '    if (( SECONDS - start > limit )); then echo "timed out after ${limit}s waiting for: $what" >&2; exit 1; fi',
    '    sleep 2',
    '  done',
    '}',
    `lb_etcdctl() { ETCDCTL_API=3 etcdctl ${tls.join(' ')} --dial-timeout=3s --command-timeout=10s "$@"; }`,
    'lb_answers() { lb_etcdctl --endpoints="$1" endpoint status; }',
    'lb_silent() { ! lb_etcdctl --endpoints="$1" endpoint status; }',
    'lb_healthy() { lb_etcdctl --endpoints="$1" endpoint health; }',
    'lb_applied() { lb_etcdctl --endpoints="$1" endpoint status -w fields | awk -F\' : \' \'/"RaftAppliedIndex"/ {print $2}\'; }',
    "# caught up: applied index within 50 entries of the coordinator's",
    'lb_caught_up() { local t m; t=$(lb_applied "$2") && m=$(lb_applied "$1") && [ -n "$t" ] && [ -n "$m" ] && (( t - m <= 50 )); }',
    'lb_listed() { lb_etcdctl --endpoints="$1" member list | grep -qF ", $2,"; }',
    'lb_promote() {',
    '  local line; line=$(lb_etcdctl --endpoints="$1" member list | grep -F ", $2,") || return 1',
    '  case "$line" in *", false") return 0 ;; esac',
    '  lb_etcdctl --endpoints="$1" member promote "${line%%,*}"',
    '}',
    'lb_require_data() { [ -d "$LB_DATA/member" ] || { echo "no etcd data in $LB_DATA: this disk is gone; use the survivor or replace plan" >&2; exit 1; }; }',
    'lb_copy_data() { [ -e "$LB_DATA.before-recover" ] || cp -a "$LB_DATA" "$LB_DATA.before-recover"; }',
    'lb_move_data_aside() {',
    '  if [ -d "$LB_DATA" ] && [ -n "$(ls -A "$LB_DATA")" ]; then mv "$LB_DATA" "$LB_DATA.lifeboat-old-$(date +%s)"; fi',
    '  mkdir -p "$LB_DATA" && chmod 700 "$LB_DATA"',
    '}',
    '# lb_restore FILE NAME PEER_URL INITIAL_CLUSTER TOKEN [BUMP]: etcdutl on 3.5+, etcdctl on 3.4. Restores into',
    '# $LB_DATA.restoring while etcd still runs: a snapshot the tool rejects fails here, before anything is stopped.',
    'lb_restore() {',
    '  local tool=(etcdutl) extra=(); command -v etcdutl >/dev/null || tool=(env ETCDCTL_API=3 etcdctl)',
    '  if [ -n "${6:-}" ]; then extra=(--bump-revision="$6" --mark-compacted); fi',
    '  rm -rf "$LB_DATA.restoring"',
    '  "${tool[@]}" snapshot restore "$1" --data-dir="$LB_DATA.restoring" --name="$2" --initial-advertise-peer-urls="$3" \\',
    '    --initial-cluster="$4" --initial-cluster-token="$5" "${extra[@]}"',
    '}',
    '# lb_swap_in: the old data dir moved aside (never deleted), the restored one in its place.',
    'lb_swap_in() { lb_move_data_aside && rmdir "$LB_DATA" && mv "$LB_DATA.restoring" "$LB_DATA"; }',
  ];
}

/**
 * lb_manifest_flags SRC DST NAME=VALUE...: a copy of a static pod manifest with those flags set (old values removed,
 * new ones right after the `- etcd` line, same indentation). A bare NAME without = only removes the flag.
 */
export const MANIFEST_FLAGS_FN = [
  'lb_manifest_flags() {',
  '  local src=$1 dst=$2; shift 2',
  '  awk -v sets="$(printf \'%s\\n\' "$@")" \'',
  '    BEGIN { n = split(sets, kv, "\\n"); for (i = 1; i <= n; i++) if (kv[i] != "") { split(kv[i], p, "="); drop["--" p[1]] = 1 } }',
  '    {',
  '      if (match($0, /^[ \\t]*- --[A-Za-z0-9-]+/)) { f = substr($0, RSTART, RLENGTH); sub(/^[ \\t]*- /, "", f); if (f in drop) next }',
  '      print',
  '      if (!done && $0 ~ /^[ \\t]*- etcd[ \\t]*$/) {',
  '        ind = $0; sub(/- etcd.*/, "", ind)',
  '        for (i = 1; i <= n; i++) if (kv[i] ~ /=/) print ind "- --" kv[i]',
  '        done = 1',
  '      }',
  '    }\' "$src" > "$dst"',
  '}',
];

/**
 * lb_cmdline_flags UNIT NAME=VALUE...: the ExecStart= command of a systemd unit file (continuation lines joined) with
 * those flags set; `--flag value`, `--flag=value` and bare `--flag` forms are all replaced. Prints one line.
 */
export const CMDLINE_FLAGS_FN = [
  'lb_cmdline_flags() {',
  '  local unit=$1; shift',
  '  awk -v sets="$(printf \'%s\\n\' "$@")" \'',
  '    BEGIN { n = split(sets, kv, "\\n"); for (i = 1; i <= n; i++) if (kv[i] != "") { split(kv[i], p, "="); drop["--" p[1]] = 1 } }',
  '    /^ExecStart=/ { grab = 1; line = "" }',
  '    grab { s = $0; sub(/^ExecStart=/, "", s); cont = sub(/\\\\[ \\t]*$/, "", s); line = line " " s; if (!cont) { grab = 0; cmd = line } }',
  '    END {',
  '      m = split(cmd, w, /[ \\t]+/); out = ""; skip = 0',
  '      for (i = 1; i <= m; i++) {',
  '        if (w[i] == "") continue',
  '        if (skip) { skip = 0; if (w[i] !~ /^--/) continue }',
  '        f = w[i]; sub(/=.*/, "", f)',
  '        if (f in drop) { if (w[i] !~ /=/) skip = 1; continue }',
  '        out = out (out == "" ? "" : " ") w[i]',
  '      }',
  '      for (i = 1; i <= n; i++) if (kv[i] ~ /=/) out = out " --" kv[i]',
  '      print out',
  '    }\' "$unit"',
  '}',
];
