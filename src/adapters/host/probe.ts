import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parse } from 'yaml';
import type { RebootSpec } from '../../domain/config.js';
import { formatDuration } from '../../domain/duration.js';
import { etcdManifestFacts } from '../../domain/init/etcd-manifest.js';
import type { HostFacts, HostLayout } from '../../domain/init/plan.js';
import { parseCrontab } from '../../domain/schedule/crontab.js';
import { classifyCommand } from '../../domain/schedule/reboot-command.js';
import { parseTimerUnit } from '../../domain/schedule/timer.js';
import { isKnownTimeZone } from '../../domain/schedule/tz.js';
import { errorMessage } from '../../errors.js';

/**
 * What `lifeboat init` finds in this host's files, every path under `root` (`/` on a real host; a directory in tests):
 * kubeadm's etcd PKI and static pod manifest, k3s's layout, the host's name and time zone, and the crontabs and
 * systemd timers that reboot it. etcd and Kubernetes are asked by the caller (src/app/init.ts).
 */
export interface HostFiles extends Omit<HostFacts, 'members' | 'kubeNodes' | 'memberNodes'> {
  /** A kubeconfig found on the host (kubeadm's admin.conf, k3s's k3s.yaml). */
  kubeconfig?: string;
  timezone: string;
}

export const KUBEADM = {
  manifest: 'etc/kubernetes/manifests/etcd.yaml',
  pki: 'etc/kubernetes/pki/etcd',
  kubeconfig: 'etc/kubernetes/admin.conf',
};
export const K3S = {
  tls: 'var/lib/rancher/k3s/server/tls/etcd',
  config: 'etc/rancher/k3s/config.yaml',
  kubeconfig: 'etc/rancher/k3s/k3s.yaml',
  endpoint: 'https://127.0.0.1:2379',
};
const CRONTABS = ['etc/crontab'];
const CRONTAB_DIRS = ['etc/cron.d', 'var/spool/cron/crontabs', 'var/spool/cron'];
const TIMER_DIRS = ['etc/systemd/system'];
const UNIT_DIRS = ['etc/systemd/system', 'lib/systemd/system', 'usr/lib/systemd/system'];

export function readHostFiles(root: string): HostFiles {
  const at = (...parts: string[]) => join(root, ...parts);
  const notes: string[] = [];
  const timezone = hostTimezone(root);
  let layout: HostLayout = 'unknown';
  let tls: HostFacts['tls'];
  let manifest: HostFacts['manifest'];
  let defaultEndpoint: string | undefined;
  let kubeconfig: string | undefined;
  let name = readText(at('etc/hostname'))?.trim() || (root === '/' ? osHostname() : 'node');

  if (existsSync(at(KUBEADM.manifest))) {
    layout = 'kubeadm';
    try {
      manifest = etcdManifestFacts(parse(readFileSync(at(KUBEADM.manifest), 'utf8')));
      notes.push(
        manifest
          ? `kubeadm etcd static pod: ${at(KUBEADM.manifest)} (member ${manifest.name ?? '?'}, data dir ${manifest.dataDir ?? '?'})`
          : `${at(KUBEADM.manifest)}: no etcd container in it`,
      );
    } catch (err) {
      notes.push(`${at(KUBEADM.manifest)}: cannot read it (${errorMessage(err)})`);
    }
  }
  const pki = at(KUBEADM.pki);
  if (['ca.crt', 'healthcheck-client.crt', 'healthcheck-client.key'].every((f) => existsSync(join(pki, f)))) {
    layout = 'kubeadm';
    tls = {
      ca: join(pki, 'ca.crt'),
      cert: join(pki, 'healthcheck-client.crt'),
      key: join(pki, 'healthcheck-client.key'),
    };
    notes.push(`kubeadm etcd PKI: ${pki}`);
  } else if (layout === 'kubeadm') notes.push(`${pki}: no ca.crt + healthcheck-client.crt/.key (fill in etcd.tls)`);
  if (layout === 'kubeadm' && existsSync(at(KUBEADM.kubeconfig))) kubeconfig = at(KUBEADM.kubeconfig);

  const k3sTls = at(K3S.tls);
  if (layout === 'unknown' && ['server-ca.crt', 'client.crt', 'client.key'].every((f) => existsSync(join(k3sTls, f)))) {
    layout = 'k3s';
    tls = { ca: join(k3sTls, 'server-ca.crt'), cert: join(k3sTls, 'client.crt'), key: join(k3sTls, 'client.key') };
    defaultEndpoint = K3S.endpoint;
    notes.push(`k3s embedded etcd: ${k3sTls}`);
    const k3sConfig = readText(at(K3S.config));
    if (k3sConfig !== undefined) {
      try {
        const nodeName = (parse(k3sConfig) as Record<string, unknown> | null)?.['node-name'];
        if (typeof nodeName === 'string' && nodeName) name = nodeName;
      } catch (err) {
        notes.push(`${at(K3S.config)}: cannot read it (${errorMessage(err)})`);
      }
    }
    if (existsSync(at(K3S.kubeconfig))) kubeconfig = at(K3S.kubeconfig);
  }
  if (layout === 'unknown') notes.push(`no kubeadm (${at(KUBEADM.pki)}) or k3s (${k3sTls}) etcd layout found`);

  const reboots = [...crontabReboots(root, timezone, notes), ...timerReboots(root, timezone, notes)];
  return {
    hostname: name,
    layout,
    timezone,
    notes,
    reboots,
    ...(tls ? { tls } : {}),
    ...(manifest ? { manifest } : {}),
    ...(defaultEndpoint ? { defaultEndpoint } : {}),
    ...(kubeconfig ? { kubeconfig } : {}),
  };
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function filesIn(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => !f.startsWith('.'))
      .map((f) => join(dir, f))
      .filter((f) => statSync(f).isFile())
      .sort();
  } catch {
    return [];
  }
}

/** The host's zone, as cron and systemd read it: /etc/timezone, else the /etc/localtime link; else UTC. */
function hostTimezone(root: string): string {
  const candidates = [readText(join(root, 'etc/timezone'))?.trim()];
  try {
    const link = readlinkSync(join(root, 'etc/localtime'));
    candidates.push(link.split('zoneinfo/')[1]);
  } catch {
    // not a link
  }
  return candidates.find((z): z is string => Boolean(z) && isKnownTimeZone(z!)) ?? 'UTC';
}

function crontabReboots(root: string, timezone: string, notes: string[]): Array<{ origin: string; spec: RebootSpec }> {
  const files = [...CRONTABS.map((f) => join(root, f)), ...CRONTAB_DIRS.flatMap((d) => filesIn(join(root, d)))];
  const found: Array<{ origin: string; spec: RebootSpec }> = [];
  for (const file of [...new Set(files)]) {
    const text = readText(file);
    if (text === undefined) continue;
    try {
      for (const line of parseCrontab(text, timezone)) {
        if (line.kind === 'power-off')
          notes.push(`${file}:${line.line}: powers the machine off (not a reboot; left out)`);
        if (line.kind !== 'reboot') continue;
        const tokens = line.text.trim().split(/\s+/);
        const cron = tokens[0]!.startsWith('@') ? tokens[0]! : tokens.slice(0, 5).join(' ');
        found.push({ origin: `${file}:${line.line}`, spec: { cron, timezone: line.timezone } });
        if (line.offsetMs || line.jitterMs) {
          notes.push(
            `${file}:${line.line}: the reboot waits ${formatDuration(line.offsetMs)}` +
              `${line.jitterMs ? ` + up to ${formatDuration(line.jitterMs)}` : ''} after the cron time; add that to downtime`,
          );
        }
      }
    } catch (err) {
      notes.push(`${file}: ${errorMessage(err)} (left out)`);
    }
  }
  return found;
}

/** .timer units whose service reboots the machine: their OnCalendar= lines become calendar entries. */
function timerReboots(root: string, timezone: string, notes: string[]): Array<{ origin: string; spec: RebootSpec }> {
  const found: Array<{ origin: string; spec: RebootSpec }> = [];
  for (const file of TIMER_DIRS.flatMap((d) => filesIn(join(root, d))).filter((f) => f.endsWith('.timer'))) {
    const text = readText(file);
    if (text === undefined) continue;
    try {
      const unit = parseTimerUnit(text);
      const unitName = /^\s*Unit\s*=\s*(\S+)/m.exec(text)?.[1] ?? basename(file).replace(/\.timer$/, '.service');
      const service = UNIT_DIRS.map((d) => readText(join(root, d, unitName))).find((t) => t !== undefined);
      const execs = [...(service ?? '').matchAll(/^\s*ExecStart\s*=\s*[-@:+!]*(.+)$/gm)].map((m) => m[1]!);
      if (!execs.some((cmd) => classifyCommand(cmd).kind === 'reboot')) continue;
      const lines = text.split(/\r?\n/);
      for (const { line } of unit.calendars) {
        const calendar = lines[line - 1]!.replace(/^\s*OnCalendar\s*=\s*/, '').trim();
        found.push({
          origin: `${file}:${line}`,
          spec: {
            calendar,
            timezone,
            ...(unit.jitterMs ? { randomizedDelay: formatDuration(unit.jitterMs) } : {}),
          },
        });
      }
      if (!unit.calendars.length) notes.push(`${file}: reboots, but on a monotonic timer (not simulated)`);
    } catch (err) {
      notes.push(`${file}: ${errorMessage(err)} (left out)`);
    }
  }
  return found;
}

/** Where a new lifeboat.yaml's directory is: it must exist. */
export function parentExists(path: string): boolean {
  return existsSync(dirname(path));
}
