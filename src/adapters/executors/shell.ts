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
    '# lb_wait SECONDS WHAT COMMAND...: poll COMMAND every 2 s until it succeeds; give up after SECONDS, saying what',
    '# the last attempt printed (the reason it kept failing). Every 30 s it says what it still waits for and why, so',
    '# nobody watching the terminal sees minutes of silence.',
    'lb_wait() {',
    '  local limit=$1 what=$2 start=$SECONDS told=$SECONDS out; shift 2',
    '  until out=$("$@" 2>&1); do',
    '    if (( SECONDS - start > limit )); then',
    '      echo "timed out after ${limit}s waiting for: $what" >&2',
    '      echo "last check ($*): ${out:-no output}" | tail -n 5 >&2',
    '      exit 1',
    '    fi',
    '    if (( SECONDS - told >= ${LB_TELL_EVERY:-30} )); then',
    '      told=$SECONDS',
    '      lb_say "still waiting ($(( SECONDS - start ))s of at most ${limit}s) for: $what; last check: $(lb_last_line "$out")"',
    '    fi',
    '    sleep 2',
    '  done',
    '}',
    "# lb_last_line TEXT: its last non-empty line, at most 200 characters (etcdctl's reason for failing).",
    "lb_last_line() { local l; l=$(printf '%s\\n' \"$1\" | awk 'NF { l = $0 } END { print l }'); printf '%s' \"${l:0:200}\"; [ -n \"$l\" ] || printf 'no output'; }",
    `lb_etcdctl() { ETCDCTL_API=3 etcdctl ${tls.join(' ')} --dial-timeout=3s --command-timeout=10s "$@"; }`,
    'lb_answers() { lb_etcdctl --endpoints="$1" endpoint status; }',
    'lb_silent() { ! lb_etcdctl --endpoints="$1" endpoint status; }',
    'lb_healthy() { lb_etcdctl --endpoints="$1" endpoint health; }',
    'lb_applied() { lb_etcdctl --endpoints="$1" endpoint status -w fields | awk -F\' : \' \'/"RaftAppliedIndex"/ {print $2}\'; }',
    "# caught up: applied index within 50 entries of the coordinator's",
    'lb_caught_up() { local t m; t=$(lb_applied "$2") && m=$(lb_applied "$1") && [ -n "$t" ] && [ -n "$m" ] && (( t - m <= 50 )); }',
    '# Member list lines: ID, STATUS, NAME, PEER URLS, CLIENT URLS, IS LEARNER. (No `| grep -q`: with pipefail, grep',
    '# quitting early kills etcdctl with SIGPIPE and the test reads as false.)',
    'lb_members() { lb_etcdctl --endpoints="$1" member list; }',
    'lb_listed() { local l; l=$(lb_members "$1") && [[ "$l" == *", $2,"* ]]; }',
    'lb_has_id() { local l; l=$(lb_members "$1") && [[ $\'\\n\'"$l" == *$\'\\n\'"$2, "* ]]; }',
    '# lb_new_id VIA PEER OLD_ID: the id of the member entry for PEER that is not OLD_ID (the re-added learner).',
    'lb_new_id() { local l; l=$(lb_members "$1") || return 1; awk -F\', \' -v p="$2" -v old="$3" \'$4 == p && $1 != old { print $1; f = 1; exit } END { exit !f }\' <<<"$l"; }',
    '# lb_local_id URL: the member id of the etcd answering on URL.',
    'lb_local_id() { local s; s=$(lb_etcdctl --endpoints="$1" endpoint status) && awk -F\', \' \'{ print $2; exit }\' <<<"$s"; }',
    '# lb_voter_here VIA LOCAL: the etcd here is healthy and a started voting member of the cluster VIA answers for.',
    '# Such a member is never stopped or wiped: it is part of the quorum being rebuilt.',
    'lb_voter_here() {',
    '  local id l; id=$(lb_local_id "$2") && [ -n "$id" ] && lb_healthy "$2" >/dev/null 2>&1 && l=$(lb_members "$1") || return 1',
    '  awk -F\', \' -v id="$id" \'$1 == id && $2 == "started" && $6 == "false" { f = 1 } END { exit !f }\' <<<"$l"',
    '}',
    '# lb_joined VIA PEER OLD_ID LOCAL: the etcd here already runs as the re-added member (it joined by itself).',
    'lb_joined() { local id new; id=$(lb_local_id "$4" 2>/dev/null) && new=$(lb_new_id "$1" "$2" "$3") && [ "$id" = "$new" ]; }',
    '# lb_member VIA ARGS...: etcdctl member ARGS, retried for 2 minutes while etcd calls the refusal transient',
    '# ("unhealthy cluster" right after a promote, no leader yet, a learner not yet in sync).',
    'lb_member() {',
    '  local via=$1 out start=$SECONDS; shift',
    '  until out=$(lb_etcdctl --endpoints="$via" member "$@" 2>&1); do',
    '    case "$out" in',
    '      *"unhealthy cluster"* | *"no leader"* | *"not leader"* | *"leader changed"* | *"too many learner"* | \\',
    '        *"in sync with leader"* | *"deadline exceeded"* | *"timed out"* | *"connection refused"* | *"Unavailable"*) ;;',
    '      *) echo "etcdctl member $*: $out" >&2; return 1 ;;',
    '    esac',
    '    if (( SECONDS - start > 120 )); then echo "etcdctl member $*: still refused after 120 s: $out" >&2; return 1; fi',
    '    sleep 2',
    '  done',
    '  printf \'%s\\n\' "$out"',
    '}',
    'lb_promote() {',
    '  local l; l=$(lb_members "$1") || return 1',
    '  local line; line=$(awk -F\', \' -v p="$2" \'$4 == p { print; exit }\' <<<"$l")',
    '  [ -n "$line" ] || return 1',
    '  case "$line" in *", false") return 0 ;; esac',
    '  lb_etcdctl --endpoints="$1" member promote "${line%%,*}"',
    '}',
    '# lb_is_voter VIA PEER: PEER is listed as a voting member.',
    'lb_is_voter() { local l; l=$(lb_members "$1") && awk -F\', \' -v p="$2" \'$4 == p && $6 == "false" { f = 1 } END { exit !f }\' <<<"$l"; }',
    'lb_require_data() { [ -d "$LB_DATA/member" ] || { echo "no etcd data in $LB_DATA: this disk is gone; use the survivor or replace plan" >&2; exit 1; }; }',
    'lb_copy_data() { [ -e "$LB_DATA.before-recover" ] || cp -a "$LB_DATA" "$LB_DATA.before-recover"; }',
    '# Moves the contents, not the folder: /var/lib/etcd is often a mount point of its own (mv would say "busy").',
    'lb_move_data_aside() {',
    '  if [ -d "$LB_DATA" ] && [ -n "$(ls -A "$LB_DATA")" ]; then',
    '    local aside; aside="$LB_DATA.lifeboat-old-$(date +%s)"',
    '    mkdir -p "$aside" && chmod 700 "$aside"',
    '    find "$LB_DATA" -mindepth 1 -maxdepth 1 -exec mv -t "$aside" {} +',
    '    lb_say "old data of $LB_DATA moved to $aside"',
    '  fi',
    '  mkdir -p "$LB_DATA" && chmod 700 "$LB_DATA"',
    '}',
    '# lb_restore_tool: etcdutl (3.5+), else etcdctl (3.4: restore without --bump-revision). Checked before anything',
    '# is stopped or moved.',
    'lb_restore_tool() {',
    '  if command -v etcdutl >/dev/null; then echo etcdutl; elif command -v etcdctl >/dev/null; then echo etcdctl; else',
    '    echo "neither etcdutl nor etcdctl is installed on this node: install the etcd client tools first" >&2; return 1; fi',
    '}',
    "# lb_restore FILE NAME PEER_URL INITIAL_CLUSTER TOKEN [BUMP]: etcdutl on 3.5+, else etcdctl (Debian's 3.4 has no",
    '# etcdutl and no --bump-revision). Restores into $LB_DATA.restoring while etcd still runs: a snapshot the tool',
    '# rejects fails here, before anything is stopped.',
    'lb_restore() {',
    '  local file=$1 name=$2 peer=$3 cluster=$4 token=$5 bump=${6:-} tool cmd extra=()',
    '  tool=$(lb_restore_tool)',
    '  if [ -n "$bump" ]; then',
    '    if [ "$tool" = etcdutl ]; then extra=(--bump-revision="$bump" --mark-compacted)',
    '    else lb_say "no etcdutl here: restoring without --bump-revision; restart every kube-apiserver afterwards"; fi',
    '  fi',
    '  if [ "$tool" = etcdutl ]; then cmd=(etcdutl); else cmd=(env ETCDCTL_API=3 etcdctl); fi',
    '  rm -rf "$LB_DATA.restoring"',
    '  "${cmd[@]}" snapshot restore "$file" --data-dir="$LB_DATA.restoring" --name="$name" \\',
    '    --initial-advertise-peer-urls="$peer" --initial-cluster="$cluster" --initial-cluster-token="$token" "${extra[@]}"',
    '}',
    '# lb_swap_in: the old data moved aside (never deleted), the restored data in its place; contents, not folders, so',
    '# a data dir that is a mount point works too.',
    'lb_swap_in() {',
    '  lb_move_data_aside',
    '  find "$LB_DATA.restoring" -mindepth 1 -maxdepth 1 -exec mv -t "$LB_DATA" {} + && rmdir "$LB_DATA.restoring"',
    '}',
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
