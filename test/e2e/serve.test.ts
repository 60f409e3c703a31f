import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdKv } from '../../src/adapters/lock/etcd-kv.js';
import { EtcdLock } from '../../src/adapters/lock/etcd-lock.js';
import { findProcesses } from '../../src/adapters/proc/find.js';
import { killProcess } from '../../src/adapters/proc/process.js';
import { json, runCli } from '../helpers/cli.js';
import { type Received, startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook.js';
import { parsePrometheusText, sampleValue } from './prom-text.js';
import { poll, type ServeProcess, startServe } from './serve-process.js';

/**
 * `lifeboat serve` end to end: a real 3-member etcd lab, serve as a subprocess with the incident's reboot schedule
 * and a backup every 15 s, the status page in real headless Chromium, /metrics through a strict parser, and a
 * webhook receiver. One cluster for the whole file: the lab goes healthy -> cp2 killed -> cp3 killed -> back.
 */

const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts');
const root = mkdtempSync(join(tmpdir(), 'lifeboat-serve-e2e-'));
const labDir = join(root, 'lab');
const backupDir = join(root, 'backups');
const started = Date.now();
const figures: Record<string, unknown> = {};

let serve: ServeProcess | undefined;
let hook: WebhookReceiver;
let context: BrowserContext | undefined;
let page: Page;
let endpoints: string[] = [];

const INCIDENT_NODES = `nodes:
  - { name: cp1, roles: [control-plane, etcd], reboot: [{ cron: "0 4 * * 1", timezone: Europe/Berlin, downtime: 10m }] }
  - { name: cp2, roles: [control-plane, etcd], reboot: [{ cron: "0 4 * * 1", timezone: Europe/Berlin, downtime: 10m }] }
  - { name: cp3, roles: [control-plane, etcd], reboot: [{ cron: "0 4 * * 3", timezone: Europe/Berlin, downtime: 10m }] }
  - { name: w1, roles: [worker], reboot: [{ cron: "0 4 * * 4", timezone: Europe/Berlin, downtime: 10m }] }
  - { name: w2, roles: [worker], reboot: [{ cron: "0 4 * * 5", timezone: Europe/Berlin, downtime: 10m }] }
  - { name: w3, roles: [worker], reboot: [{ cron: "0 4 * * 6", timezone: Europe/Berlin, downtime: 10m }] }
  - { name: w4, roles: [worker], reboot: [{ cron: "0 4 * * 0", timezone: Europe/Berlin, downtime: 10m }] }
`;

async function metrics(): Promise<ReturnType<typeof parsePrometheusText>> {
  const res = await fetch(`${serve!.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

async function margin(): Promise<number | undefined> {
  return sampleValue(await metrics(), 'lifeboat_etcd_quorum_margin');
}

/** The text a person sees in the element (rendered text, not the DOM's textContent). */
// biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText() is exactly the rendered text
const seen = (l: Locator) => l.innerText();
const lab = (...args: string[]) => runCli([...args, '--dir', labDir]);
const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `serve-${name}.png`), fullPage: true });
const quorumMessages = (all: Received[]) => all.filter((r) => r.path === '/generic' && r.body.key === 'etcd-quorum');

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  hook = await startWebhookReceiver();
  const up = await runCli(['--json', 'lab', 'up', '--dir', labDir, '--keys', '200']);
  expect(up.code, up.stderr).toBe(0);
  endpoints = json<{ members: Array<{ clientUrl: string }> }>(up).members.map((m) => m.clientUrl);
  const config = join(root, 'serve.yaml');
  writeFileSync(
    config,
    `cluster: { name: incident-lab }
etcd: { endpoints: [${endpoints.join(', ')}] }
${INCIDENT_NODES}backups:
  to: [${backupDir}]
  etcd: { every: 15s, verifyEvery: 1 }
alerts:
  webhooks:
    - { url: "${hook.url}/generic" }
    - { url: "${hook.url}/slack", format: slack }
`,
  );
  mkdirSync(join(root, 'tmp'));
  serve = await startServe(
    ['-c', config, 'serve', '--listen', '127.0.0.1:0', '--probe-interval', '500ms', '--probe-timeout', '1s'],
    {
      env: { TMPDIR: join(root, 'tmp') },
    },
  );
  const userDataDir = mkdtempSync(join(root, 'chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
}, 90_000);

afterAll(async () => {
  try {
    await context?.close();
    const code = await serve?.stop();
    figures.serveExit = code;
    await lab('lab', 'down', '--purge');
    await hook?.close();
  } finally {
    for (const pid of findProcesses((arg) => arg.startsWith(`--data-dir=${root}/`))) await killProcess(pid);
    writeFileSync(join(ARTIFACTS, 'serve-e2e.json'), `${JSON.stringify(figures, null, 2)}\n`);
    rmSync(root, { recursive: true, force: true });
  }
}, 60_000);

describe('lifeboat serve against a real etcd lab, seen in Chromium', () => {
  let navigations = 0;
  const errors: string[] = [];

  it('shows three healthy members, the quorum picture and margin 1 in /metrics', async () => {
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations++;
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(serve!.url);
    await page
      .locator('#headline', { hasText: 'etcd is HEALTHY: 3 of 3 voting members answer' })
      .waitFor({ timeout: 10_000 });
    await expect(seen(page.locator('#pill'))).resolves.toMatch(/healthy/i);
    await expect(page.locator('#members tbody tr').count()).resolves.toBe(3);
    await expect(page.locator('#members .tag.ok', { hasText: 'up' }).count()).resolves.toBe(3);
    await expect(page.locator('#quorum-picture svg').getAttribute('aria-label')).resolves.toBe(
      '3 of 3 voting members up, quorum 2, margin 1',
    );
    expect(await margin()).toBe(1);
    const health = await fetch(`${serve!.url}/healthz`);
    expect(health.status).toBe(200);
    await expect(seen(page.locator('#locks'))).resolves.toMatch(/Maintenance lock: free/);
    expect(errors).toEqual([]);
    await shot('healthy');
    await page.locator('#quorum').screenshot({ path: join(ARTIFACTS, 'serve-quorum-healthy.png') });
  });

  it('shows who holds the maintenance lock, on the page and in /metrics', async () => {
    const kv = new EtcdKv(endpoints);
    const lock = new EtcdLock(kv, 'etcd-member');
    try {
      expect((await lock.tryAcquire('cp3', 'kernel update', 60_000)).acquired).toBe(true);
      await page.locator('#locks', { hasText: 'cp3 holds etcd-member' }).waitFor({ timeout: 5000 });
      await expect(seen(page.locator('#locks'))).resolves.toMatch(/kernel update/);
      const held = await poll('the lock metric', 5000, async () =>
        sampleValue(await metrics(), 'lifeboat_maintenance_lock_held', { holder: 'cp3', slot: 'etcd-member' }),
      );
      expect(held).toBe(1);
      await lock.release();
      await page.locator('#locks', { hasText: 'free' }).waitFor({ timeout: 5000 });
    } finally {
      kv.close();
    }
  });

  it('lists a backup taken during the test in the timeline', async () => {
    const name = await poll('a snapshot in the store', 30_000, () =>
      readdirSyncSafe(join(backupDir, 'etcd')).find((f) => f.endsWith('.db')),
    );
    const stamp = /^(\d{4}-\d{2}-\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z/.exec(name)!;
    expect(Date.parse(`${stamp[1]}T${stamp[2]}:${stamp[3]}:${stamp[4]}.${stamp[5]}Z`)).toBeGreaterThanOrEqual(
      started - 1000,
    );
    const row = page.locator('#backup-rows tr', { hasText: `etcd/${name}` });
    await row.waitFor({ timeout: 15_000 });
    await expect(seen(row)).resolves.toMatch(/taken/);
    await page.locator('#backup-rows tr', { hasText: 'taken · verified' }).first().waitFor({ timeout: 30_000 });
    await expect(page.locator('#timeline .cells').first().locator('.cell.verified').count()).resolves.toBeGreaterThan(
      0,
    );
    const m = await metrics();
    expect(sampleValue(m, 'lifeboat_backup_last_success_timestamp_seconds', { kind: 'etcd' })).toBeGreaterThan(
      started / 1000 - 1,
    );
    expect(sampleValue(m, 'lifeboat_backup_bytes', { kind: 'etcd' })).toBeGreaterThan(0);
    await page.locator('#backups').screenshot({ path: join(ARTIFACTS, 'serve-backups.png') });
  });

  it("shows the incident schedule's danger window in red in the 14-day calendar", async () => {
    const danger = page.locator('#calendar-body ul.windows li.error');
    await danger.first().waitFor({ timeout: 5000 });
    const texts = await danger.allInnerTexts();
    expect(texts.length).toBe(2); // two Mondays in any 14 days
    for (const t of texts)
      expect(t).toMatch(
        /^DANGER Mon \d+ \w{3} 04:00–04:10 Europe\/Berlin: cp1 and cp2 down together: etcd loses quorum$/,
      );
    await expect(page.locator('#calendar-body .day.danger').count()).resolves.toBe(2);
    const color = await page
      .locator('#calendar-body .track .dz.error')
      .first()
      .evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(color).toMatch(/^rgb\((20\d|2[1-5]\d), \d{1,2}, \d{1,2}\)$/); // red
    await page.locator('#calendar').screenshot({ path: join(ARTIFACTS, 'serve-calendar.png') });
  });

  it('shows the degraded state within 10 s of `lab kill cp2`, without a reload; /metrics margin 0', async () => {
    const before = navigations;
    const kill = await lab('lab', 'kill', 'cp2');
    expect(kill.code, kill.stderr).toBe(0);
    const t0 = Date.now();
    await page
      .locator('#headline', { hasText: 'etcd is DEGRADED: 2 of 3 voting members answer' })
      .waitFor({ timeout: 10_000 });
    figures.pageLatencyAfterKillMs = Date.now() - t0;
    expect(navigations).toBe(before);
    await expect(seen(page.locator('#members tr', { hasText: 'cp2' }))).resolves.toMatch(/DOWN/);
    await expect(seen(page.locator('#plan-body'))).resolves.toMatch(
      /Restart cp2 with its data[\s\S]*Start cp2 with its existing data dir/,
    );
    expect(await poll('margin 0', 5000, async () => ((await margin()) === 0 ? 0 : undefined))).toBe(0);
    await hook.waitFor((all) => quorumMessages(all).length >= 1, 10_000, 'the zero-margin alert');
    await shot('degraded');
    await page.locator('#quorum').screenshot({ path: join(ARTIFACTS, 'serve-quorum-degraded.png') });
  });

  it('follows the lab to quorum lost (margin -1) and back, one webhook message per change and one resolve', async () => {
    expect((await lab('lab', 'kill', 'cp3')).code).toBe(0);
    await poll('margin -1', 10_000, async () => ((await margin()) === -1 ? true : undefined));
    await page.locator('#headline', { hasText: 'etcd is QUORUM-LOST' }).waitFor({ timeout: 10_000 });
    await hook.waitFor((all) => quorumMessages(all).length >= 2, 10_000, 'the quorum-lost alert');
    await shot('quorum-lost');
    expect((await lab('lab', 'start', 'cp3')).code).toBe(0);
    await poll('margin 0 again', 20_000, async () => ((await margin()) === 0 ? true : undefined));
    await hook.waitFor((all) => quorumMessages(all).length >= 3, 10_000, 'zero-margin again');
    expect((await lab('lab', 'start', 'cp2')).code).toBe(0);
    await poll('margin 1 again', 20_000, async () => ((await margin()) === 1 ? true : undefined));
    await hook.waitFor((all) => quorumMessages(all).some((r) => r.body.status === 'resolved'), 10_000, 'the resolve');
    await page.locator('#headline', { hasText: 'etcd is HEALTHY: 3 of 3' }).waitFor({ timeout: 10_000 });
    // Quiet afterwards: ten more probes send nothing new.
    const count = hook.received.length;
    const probedAt = async () =>
      ((await (await fetch(`${serve!.url}/api/status`)).json()) as { etcd: { probedAt: string } }).etcd.probedAt;
    const from = Date.parse(await probedAt());
    await poll('ten more probes', 20_000, async () => (Date.parse(await probedAt()) >= from + 5000 ? true : undefined));
    expect(hook.received.length).toBe(count);

    const quorum = quorumMessages(hook.received).map((r) => `${r.body.status}/${r.body.level}`);
    expect(quorum).toEqual(['firing/zero-margin', 'firing/quorum-lost', 'firing/zero-margin', 'resolved/zero-margin']);
    // Every key: consecutive messages differ (one per change), and the Slack hook got the same messages.
    const generic = hook.received.filter((r) => r.path === '/generic');
    const byKey = new Map<string, string[]>();
    for (const r of generic)
      byKey.set(String(r.body.key), [...(byKey.get(String(r.body.key)) ?? []), `${r.body.status}/${r.body.level}`]);
    for (const [key, list] of byKey) {
      for (let i = 1; i < list.length; i++) expect(list[i], `${key}: ${list.join(', ')}`).not.toBe(list[i - 1]);
    }
    expect(byKey.get('check/quorum-loss/cp1,cp2')).toEqual(['firing/error']);
    const slack = hook.received.filter((r) => r.path === '/slack');
    expect(slack.length).toBe(generic.length);
    expect(String(slack.find((r) => /QUORUM-LOST/.test(String(r.body.text)))?.body.text)).toMatch(
      /^\*\[incident-lab\] CRITICAL: etcd is QUORUM-LOST: it accepts no changes/,
    );
    const final = await metrics();
    expect(sampleValue(final, 'lifeboat_etcd_members', { state: 'up' })).toBe(3);
    expect(sampleValue(final, 'lifeboat_etcd_leader_changes_total')).toBeGreaterThanOrEqual(0);
    figures.webhookMessages = generic.map((r) => `${r.body.key} ${r.body.status}/${r.body.level}`);
    await shot('recovered');
  });

  it('looks readable on a phone', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('#headline', { hasText: 'etcd is HEALTHY' }).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(ARTIFACTS, 'serve-phone.png') });
    await page.screenshot({ path: join(ARTIFACTS, 'serve-phone-full.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});

function readdirSyncSafe(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}
