import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { StatusDocument } from '../../src/server/status.js';
import { parsePrometheusText, sampleValue } from '../e2e/prom-text.js';
import { poll, type ServeProcess, startServe } from '../e2e/serve-process.js';
import { runCli } from '../helpers/cli.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook.js';

/**
 * `lifeboat serve` without a cluster: the HTTP surface, /metrics, alerts about an unreachable etcd, re-checking the
 * reboot schedule when the config file changes (and keeping the old one when the new one is broken), bad flags, and
 * a clean stop. (The live-cluster behaviour is test/e2e/serve.test.ts.)
 */

const root = mkdtempSync(join(tmpdir(), 'lifeboat-serve-it-'));
const config = join(root, 'lifeboat.yaml');
let hook: WebhookReceiver;
let serve: ServeProcess | undefined;
let deadPort: number;

function node(name: string, cron: string): string {
  return `  - { name: ${name}, roles: [control-plane, etcd], reboot: [{ cron: "${cron}", timezone: Europe/Berlin }] }\n`;
}

function writeConfig(crons: [string, string, string], extra = ''): void {
  writeFileSync(
    config,
    `cluster: { name: home }\netcd: { endpoints: ["http://127.0.0.1:${deadPort}"] }\nnodes:\n` +
      node('cp1', crons[0]) +
      node('cp2', crons[1]) +
      node('cp3', crons[2]) +
      `alerts: { webhooks: [{ url: "${hook.url}/a" }] }\n${extra}`,
  );
}

const SAFE: [string, string, string] = ['0 4 * * 1', '0 4 * * 2', '0 5 * * 3'];
const INCIDENT: [string, string, string] = ['0 4 * * 1', '0 4 * * 1', '0 5 * * 3'];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function status(): Promise<StatusDocument> {
  return (await (await fetch(`${serve!.url}/api/status`)).json()) as StatusDocument;
}

beforeAll(async () => {
  hook = await startWebhookReceiver();
  deadPort = await freePort();
  writeConfig(SAFE);
  serve = await startServe([
    '-c',
    config,
    'serve',
    '--listen',
    '127.0.0.1:0',
    '--probe-interval',
    '300ms',
    '--probe-timeout',
    '500ms',
  ]);
});

afterAll(async () => {
  await serve?.stop();
  await hook?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('serve: HTTP surface', () => {
  it('serves the page, its assets and nothing else, with a strict Content-Security-Policy', async () => {
    const page = await fetch(serve!.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'/);
    const html = await page.text();
    expect(html).toContain('<script src="/app.js" defer></script>');
    expect(html).not.toMatch(/https?:\/\/(?!127)/); // no CDN, no external resource
    const js = await (await fetch(`${serve!.url}/app.js`)).text();
    expect(js).toMatch(/^'use strict';/);
    expect(js).toContain('function main()');
    expect(js).not.toMatch(/\bimport\b|\brequire\(|__vi_|_client_dom/);
    expect(() => new Function(js)).not.toThrow(); // one valid script
    const css = await fetch(`${serve!.url}/app.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const etag = css.headers.get('etag')!;
    expect((await fetch(`${serve!.url}/app.css`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await fetch(`${serve!.url}/nope`)).status).toBe(404);
    expect((await fetch(`${serve!.url}/api/status`, { method: 'POST' })).status).toBe(405);
  });

  it('says etcd is unreachable in /api/status, /metrics (strictly parsed) and /healthz, and alerts once', async () => {
    const doc = await poll('a probe', 5000, async () => ((await status()).etcd ? status() : undefined));
    expect(doc.etcd).toMatchObject({
      state: 'unreachable',
      marginWords: expect.stringMatching(/^margin -\d+: quorum lost$/),
    });
    expect(doc.etcd?.headline).toMatch(
      /^etcd is UNREACHABLE: none of the \d+ endpoints answered; every member is down/,
    );
    expect(doc.cluster).toBe('home');
    const metrics = await fetch(`${serve!.url}/metrics`);
    const families = parsePrometheusText(await metrics.text());
    expect(sampleValue(families, 'lifeboat_etcd_members', { state: 'up' })).toBe(0);
    expect(sampleValue(families, 'lifeboat_etcd_quorum_margin')).toBe(-1);
    expect(sampleValue(families, 'lifeboat_etcd_state', { state: 'unreachable' })).toBe(1);
    expect(sampleValue(families, 'lifeboat_config_valid')).toBe(1);
    expect(sampleValue(families, 'lifeboat_check_findings', { severity: 'error' })).toBe(0);
    expect(families.get('lifeboat_job_duration_seconds')?.type).toBe('histogram');
    const health = await fetch(`${serve!.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, etcd: 'unreachable', config: true });
    await hook.waitFor((all) => all.some((r) => r.body.key === 'etcd-quorum'), 5000);
    await poll('five more probes', 5000, async () => {
      const d = await status();
      return Date.parse(d.etcd!.probedAt) > Date.parse(doc.etcd!.probedAt) + 1500 ? true : undefined;
    });
    const quorum = hook.received.filter((r) => r.body.key === 'etcd-quorum');
    expect(quorum.map((r) => `${r.body.status}/${r.body.level}`)).toEqual(['firing/unreachable']);
    expect(quorum[0]!.body).toMatchObject({ source: 'lifeboat', cluster: 'home', severity: 'critical' });
  });
});

describe('deploy/prometheus/lifeboat-rules.yaml', () => {
  it('is a rule file whose every lifeboat_* metric is one serve exposes', async () => {
    const doc = parseYaml(readFileSync('deploy/prometheus/lifeboat-rules.yaml', 'utf8')) as {
      groups: Array<{ name: string; rules: Array<{ alert: string; expr: string; labels: { severity: string } }> }>;
    };
    const families = parsePrometheusText(await (await fetch(`${serve!.url}/metrics`)).text());
    const known = new Set([...families.values()].flatMap((f) => [f.name, ...f.samples.map((x) => x.name)]));
    const rules = doc.groups.flatMap((g) => g.rules);
    expect(rules.length).toBeGreaterThanOrEqual(10);
    for (const r of rules) {
      expect(r.alert).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(['critical', 'warning']).toContain(r.labels.severity);
      for (const name of r.expr.match(/lifeboat_[a-z_]+/g) ?? []) expect(known, `${r.alert}: ${name}`).toContain(name);
    }
  });
});

describe('serve: config changes', () => {
  it('re-runs check when the file changes: the incident schedule appears in the calendar and alerts', async () => {
    expect((await status()).check?.ok).toBe(true);
    writeConfig(INCIDENT);
    const doc = await poll('the new check', 10_000, async () => {
      const d = await status();
      return d.check?.ok === false ? d : undefined;
    });
    expect(doc.check?.findings[0]).toMatchObject({ code: 'quorum-loss', nodes: ['cp1', 'cp2'] });
    expect(doc.calendar?.windows.filter((w) => w.severity === 'error')).toHaveLength(2);
    expect(doc.events.map((e: { message: string }) => e.message)).toContainEqual(
      expect.stringMatching(/^config reloaded; check: 1 error/),
    );
    await hook.waitFor((all) => all.some((r) => r.body.key === 'check/quorum-loss/cp1,cp2'), 5000, 'the check alert');
  });

  it('keeps the previous config when the new one is broken, and says so', async () => {
    writeFileSync(config, 'nodes:\n  - name: cp1\n    roles: [etcd]\n    reboot: [{ cron: "61 4 * * 1" }]\n');
    const doc = await poll('the rejected config', 10_000, async () => {
      const d = await status();
      return d.config.ok === false ? d : undefined;
    });
    expect(doc.config.error).toMatch(/lifeboat\.yaml:4:\d+: nodes\[0\]\.reboot\[0\]\.cron: invalid minute field "61"/);
    expect(doc.check?.ok).toBe(false); // the previous config's check still stands
    const families = parsePrometheusText(await (await fetch(`${serve!.url}/metrics`)).text());
    expect(sampleValue(families, 'lifeboat_config_valid')).toBe(0);
  });

  it('a fixed schedule resolves the check alert', async () => {
    writeConfig(SAFE);
    await poll('the fixed config', 10_000, async () => ((await status()).check?.ok === true ? true : undefined));
    await hook.waitFor(
      (all) => all.some((r) => r.body.key === 'check/quorum-loss/cp1,cp2' && r.body.status === 'resolved'),
      5000,
      'the resolve',
    );
    const sent = hook.received.filter((r) => r.body.key === 'check/quorum-loss/cp1,cp2').map((r) => r.body.status);
    expect(sent).toEqual(['firing', 'resolved']);
    expect((await status()).config.ok).toBe(true);
  });
});

describe('serve: flags and stopping', () => {
  it('refuses bad flags and a port in use with one line and exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['serve', '--listen', 'localhost'], /invalid --listen "localhost"/],
      [['serve', '--listen', '127.0.0.1:99999'], /invalid --listen/],
      [['serve', '--probe-interval', '0s'], /invalid --probe-interval "0s"/],
      [['serve', '--timezone', 'Mars/Olympus'], /unknown time zone "Mars\/Olympus"/],
      [['serve', '--listen', new URL(serve!.url).host], /cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['-c', config, ...args], { timeoutMs: 20_000 });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });

  it('stops on SIGTERM with exit 0', async () => {
    const code = await serve!.stop();
    expect(code).toBe(0);
    expect(serve!.output()).toMatch(/serve: stopping\n$/);
    serve = undefined;
  });
});
