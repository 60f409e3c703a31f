import type { StatusDocument } from '../../server/status.js';
import { ago, clock, fill, h, tag } from './client-dom.js';
import {
  renderAlerts,
  renderBackups,
  renderEtcd,
  renderEvents,
  renderJobs,
  renderPlan,
  renderPointInTime,
} from './client-panels.js';

/**
 * Browser code of the status page, part 3: the maintenance calendar and the poll loop. /api/status every 2 s, the
 * next request only after the previous one ended; a failed request leaves the last picture up under a banner that
 * says since when it is stale.
 */

export function renderCalendar(doc: StatusDocument): void {
  const cal = doc.calendar;
  if (!cal) return;
  const now = Date.parse(doc.generatedAt);
  const legend = h(
    'div',
    { class: 'legend' },
    h('span', null, h('i', { style: 'background:var(--reboot-etcd)' }), 'etcd member reboot'),
    h('span', null, h('i', { style: 'background:var(--reboot)' }), 'worker reboot'),
    h('span', null, h('i', { style: 'background:var(--bad)' }), 'quorum lost'),
    h('span', null, h('i', { style: 'background:var(--warn)' }), 'zero margin / no worker up'),
  );
  const grid = h('div', { class: 'cal', role: 'table', 'aria-label': `reboots per day, ${cal.zone}` });
  grid.append(
    h('span'),
    h('div', { class: 'hours' }, ...['00', '06', '12', '18', '24'].map((x) => h('span', null, x))),
  );
  for (const d of cal.days) {
    const red = d.danger.some((z) => z.severity === 'error');
    grid.append(
      h(
        'div',
        { class: `day${d.weekend ? ' weekend' : ''}${red ? ' danger' : ''}`, role: 'rowheader' },
        red ? `⚠ ${d.label}` : d.label,
      ),
    );
    const track = h('div', { class: 'track', role: 'cell' });
    for (const q of [0.25, 0.5, 0.75]) track.append(h('div', { class: 'hour', style: `left:${q * 100}%` }));
    for (const r of d.reboots) {
      const title = `${r.node} reboot ${r.start.slice(11, 16)}–${r.end.slice(11, 16)}`;
      track.append(
        h('div', {
          class: `rb${r.etcd ? ' etcd' : ''}`,
          style: `left:${r.s * 100}%;width:${(r.e - r.s) * 100}%`,
          title,
        }),
      );
    }
    for (const z of d.danger) {
      const title = `${z.code}: ${z.nodes.join(', ')} ${z.start.slice(11, 16)}–${z.end.slice(11, 16)}`;
      track.append(
        h('div', { class: `dz ${z.severity}`, style: `left:${z.s * 100}%;width:${(z.e - z.s) * 100}%`, title }),
      );
    }
    const a = Date.parse(d.start);
    const b = Date.parse(d.end);
    if (now >= a && now < b)
      track.append(h('div', { class: 'now', style: `left:${((now - a) / (b - a)) * 100}%`, title: 'now' }));
    grid.append(track);
  }
  const windows = cal.windows.filter((w) => w.severity === 'error');
  const amber = cal.windows.length - windows.length;
  const list = windows.length
    ? h('ul', { class: 'windows' }, ...windows.map((w) => h('li', { class: 'error' }, `DANGER ${w.text}`)))
    : h('p', null, tag('ok', 'no quorum loss planned'), ' in the next 14 days.');
  const note = amber
    ? h(
        'p',
        { class: 'muted' },
        `${amber} zero-margin window${amber === 1 ? '' : 's'} (one etcd member rebooting at a time is expected; nothing else may fail then).`,
      )
    : null;
  const findings = (doc.check?.findings ?? []).filter((f) => f.severity !== 'info');
  const checkPart = doc.check
    ? h(
        'div',
        null,
        h(
          'h3',
          null,
          `lifeboat check (next ${Math.round((Date.parse(doc.check.horizon.to) - Date.parse(doc.check.horizon.from)) / 86400000)} days): `,
          doc.check.ok ? tag('ok', 'no error') : tag('bad', 'quorum at risk'),
        ),
        ...findings
          .slice(0, 6)
          .map((f) => h('div', { class: `finding ${f.severity}` }, h('strong', null, `${f.code}: `), f.message)),
      )
    : null;
  fill('calendar-body', h('p', { class: 'muted' }, `Times in ${cal.zone}.`), legend, grid, list, note, checkPart);
}

export function renderLocks(doc: StatusDocument): void {
  const locks = doc.locks;
  if (locks === null) {
    fill('locks', 'Maintenance lock: ', tag('warn', 'unknown'), ' (reading it needs etcd quorum)');
    return;
  }
  if (locks.length === 0) {
    fill('locks', 'Maintenance lock: ', tag('ok', 'free'), ' no node is under maintenance now.');
    return;
  }
  const now = Date.parse(doc.generatedAt);
  fill(
    'locks',
    'Maintenance lock: ',
    ...locks.map((l) =>
      h(
        'span',
        null,
        tag('warn', `${l.holder} holds ${l.lock}`),
        ` ${l.phase}: ${l.reason} (since ${ago(l.acquiredAt, now)}) `,
      ),
    ),
  );
}

export function render(doc: StatusDocument): void {
  fill('cluster', doc.cluster);
  fill('version', doc.version);
  fill('updated', `updated ${clock(doc.generatedAt)}`);
  document.body.dataset.generatedAt = doc.generatedAt;
  const parts: Array<(d: StatusDocument) => void> = [
    renderEtcd,
    renderPlan,
    renderAlerts,
    renderBackups,
    renderPointInTime,
    renderCalendar,
    renderLocks,
    renderJobs,
    renderEvents,
  ];
  for (const part of parts) {
    try {
      part(doc);
    } catch (err) {
      console.error(err);
    }
  }
  if (!doc.config.ok) showBanner(`Config not reloaded: ${doc.config.error}. Serving the previous one.`);
}

export function showBanner(text: string | null): void {
  const el = document.getElementById('banner')!;
  el.hidden = text === null;
  el.textContent = text ?? '';
}

export function main(): void {
  let lastOk: number | null = null;
  const tick = async () => {
    try {
      const res = await fetch('/api/status', { cache: 'no-store' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const doc = (await res.json()) as StatusDocument;
      lastOk = Date.now();
      showBanner(null);
      render(doc);
    } catch (err) {
      const since = lastOk === null ? '' : `; this page shows the state of ${clock(lastOk)}`;
      showBanner(
        `lifeboat serve does not answer (${err instanceof Error ? err.message : String(err)})${since}. Retrying…`,
      );
    }
    setTimeout(tick, 2000);
  };
  void tick();
}
