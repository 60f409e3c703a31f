import { basename } from 'node:path';
import { UserError } from '../../errors.js';
import { FileRunbookExecutor } from './file-executor.js';
import type { Driver } from './runbook.js';
import { CMDLINE_FLAGS_FN, q } from './shell.js';

/**
 * etcd as a systemd unit. Stopping = `systemctl stop` plus a runtime mask (nothing restarts it behind our back); a step
 * with other flags = a drop-in that replaces ExecStart with the unit's own command line, flags edited.
 */

export interface EtcdUnit {
  unitName: string;
  /** Flags of ExecStart plus ETCD_* Environment= lines (flag names without dashes). */
  flags: Map<string, string>;
  dataDir: string;
}

/** ExecStart's words, continuation lines joined. */
export function execStartWords(text: string): string[] {
  const joined = text.replace(/\\\r?\n/g, ' ');
  const line = joined.split('\n').find((l) => /^ExecStart=\S/.test(l.trim()));
  return line
    ? line
        .trim()
        .replace(/^ExecStart=/, '')
        .split(/\s+/)
        .filter(Boolean)
    : [];
}

export function parseEtcdUnit(text: string, path: string): EtcdUnit {
  const words = execStartWords(text);
  if (!words.some((w) => /(^|\/)etcd$/.test(w))) throw new UserError(`${path}: ExecStart does not run etcd`);
  const flags = new Map<string, string>();
  for (const m of text.matchAll(/^Environment="?ETCD_([A-Z_]+)=([^"\n]*)"?/gm)) {
    flags.set(m[1]!.toLowerCase().replace(/_/g, '-'), m[2]!);
  }
  for (let i = 0; i < words.length; i++) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(words[i]!);
    if (!m) continue;
    if (m[2] !== undefined) flags.set(m[1]!, m[2]);
    else if (words[i + 1] && !words[i + 1]!.startsWith('--')) flags.set(m[1]!, words[++i]!);
    else flags.set(m[1]!, 'true');
  }
  return { unitName: basename(path), flags, dataDir: flags.get('data-dir') ?? '/var/lib/etcd' };
}

export function systemdDriver(path: string, unit: EtcdUnit): Driver {
  const f = unit.flags;
  const local =
    f
      .get('listen-client-urls')
      ?.split(',')
      .find((u) => u.includes('127.0.0.1')) ??
    f.get('advertise-client-urls')?.split(',')[0] ??
    'http://127.0.0.1:2379';
  const name = q(unit.unitName);
  const dropIn = q(`/etc/systemd/system/${unit.unitName}.d/99-lifeboat-recover.conf`);
  return {
    kind: 'systemd',
    source: path,
    dataDir: unit.dataDir,
    tls: {
      ...(f.get('trusted-ca-file') ? { cacert: f.get('trusted-ca-file') } : {}),
      ...(f.get('cert-file') ? { cert: f.get('cert-file') } : {}),
      ...(f.get('key-file') ? { key: f.get('key-file') } : {}),
    },
    localUrl: local,
    prelude: [
      ...CMDLINE_FLAGS_FN,
      `LB_UNIT=${name}`,
      `LB_DROPIN=${dropIn}`,
      'LB_UNIT_FILE=$(systemctl show -P FragmentPath "$LB_UNIT")',
      'lb_stop_etcd() {',
      '  systemctl stop "$LB_UNIT"',
      '  systemctl mask --runtime "$LB_UNIT" >/dev/null',
      "  lb_wait 120 'etcd to stop' lb_silent " + q(local),
      '}',
      'lb_start_normal() {',
      '  rm -f "$LB_DROPIN"; systemctl daemon-reload',
      '  systemctl unmask --runtime "$LB_UNIT" >/dev/null; systemctl start "$LB_UNIT"',
      '}',
      'lb_start_with() {',
      '  local cmd; cmd=$(lb_cmdline_flags "$LB_UNIT_FILE" "$@")',
      '  mkdir -p "$(dirname "$LB_DROPIN")"',
      '  printf \'# written by lifeboat recover; removed by the next normal start\\n[Service]\\nExecStart=\\nExecStart=%s\\n\' "$cmd" > "$LB_DROPIN"',
      '  systemctl daemon-reload',
      '  systemctl unmask --runtime "$LB_UNIT" >/dev/null; systemctl start "$LB_UNIT"',
      '}',
    ],
    header: () => [
      `Unit ${unit.unitName}; flags set through EnvironmentFile= are not read here: check ${unit.dataDir} is the data dir.`,
    ],
  };
}

export class SystemdExecutor extends FileRunbookExecutor {
  constructor(source: string, nodes: Array<{ node: string; member: string }>) {
    super('systemd', source, nodes, 'pass the etcd unit file with --unit FILE', (text) =>
      systemdDriver(source, parseEtcdUnit(text, source)),
    );
  }
}
