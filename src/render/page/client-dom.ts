import type { EtcdPanel } from '../../server/status.js';

/**
 * Browser code of the status page, part 1: DOM helpers, formatting and the quorum picture. These functions are
 * serialised with Function.prototype.toString into /app.js (see index.ts), so each is self-contained: no imports
 * at run time (type imports vanish), only browser globals and the other page functions by name. Text always goes
 * in as text nodes, never as HTML.
 */

export type Child = Node | string | null | undefined | false;

export function h(tag: string, attrs: Record<string, string> | null = null, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (k !== 'style') el.setAttribute(k, v);
    else {
      // Through the CSSOM: the page's Content-Security-Policy forbids inline style attributes.
      for (const decl of v.split(';')) {
        const colon = decl.indexOf(':');
        if (colon > 0) el.style.setProperty(decl.slice(0, colon).trim(), decl.slice(colon + 1).trim());
      }
    }
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

export function svg(tag: string, attrs: Record<string, string | number>, ...children: Child[]): SVGElement {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

export function fill(id: string, ...children: Child[]): void {
  const el = document.getElementById(id);
  if (el)
    el.replaceChildren(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
}

export function ago(iso: string | null, now: number): string {
  if (!iso) return 'never';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (s < 0) return `in ${span(-s * 1000)}`;
  if (s < 5) return 'just now';
  return `${span(s * 1000)} ago`;
}

export function span(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 360) / 10} h`;
  return `${Math.round(s / 8640) / 10} d`;
}

export function clock(iso: string | number | null): string {
  if (iso === null) return '';
  const d = new Date(iso);
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

export function when(iso: string, now: number): string {
  const d = new Date(iso);
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  if (d.toDateString() === new Date(now).toDateString()) return time;
  return `${d.toLocaleDateString([], { weekday: 'short', day: 'numeric', month: 'short' })} ${time.slice(0, 5)}`;
}

/**
 * domain/units.ts's formatBytes, again: page functions are sent to the browser as source text and cannot import
 * (the bundle would turn an import into a require the browser does not have).
 */
export function bytes(n: number | null): string {
  if (n === null) return '';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

export function tag(kind: 'ok' | 'warn' | 'bad' | 'info', text: string): HTMLElement {
  return h('span', { class: `tag ${kind}` }, text);
}

/**
 * The quorum as a picture: voting members on a ring (green up, red down with a cross, a gold ring on the leader,
 * learners dashed), the count in the middle, and below a scale of the voting members with the quorum line drawn in:
 * the members right of the line are the margin.
 */
export function quorumPicture(e: EtcdPanel): SVGElement {
  const voting = e.members.filter((m) => !m.learner);
  const learners = e.members.filter((m) => m.learner);
  const all = [...voting, ...learners];
  const n = Math.max(all.length, 1);
  const cx = 160;
  const cy = 126;
  const ring = n === 1 ? 0 : 80;
  const r = n > 5 ? 16 : 21;
  const label = `${e.reachableVoting} of ${e.votingMembers} voting members up, quorum ${e.quorum}, margin ${e.margin}`;
  const root = svg('svg', { viewBox: '0 0 320 320', role: 'img', 'aria-label': label });
  root.append(svg('circle', { cx, cy, r: ring || 1, class: 'q-ring' }));
  all.forEach((m, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / n;
    const x = cx + ring * Math.cos(a);
    const y = cy + ring * Math.sin(a);
    const up = m.reachable;
    const g = svg('g', {});
    if (m.leader) g.append(svg('circle', { cx: x, cy: y, r: r + 5, class: 'q-leader' }));
    g.append(svg('circle', { cx: x, cy: y, r, class: m.learner ? 'q-learner' : up ? 'q-up' : 'q-down' }));
    if (!up && !m.learner) {
      const d = r * 0.45;
      const cross = { class: 'q-cross' };
      g.append(svg('line', { x1: x - d, y1: y - d, x2: x + d, y2: y + d, ...cross }));
      g.append(svg('line', { x1: x - d, y1: y + d, x2: x + d, y2: y - d, ...cross }));
    }
    // Labels go outward: above the members in the upper half, below the others; clear of the leader's ring.
    const below = y >= cy - 1;
    const gap = m.leader ? 9 : 4;
    const ty = below ? y + r + gap + 13 : y - r - gap - 4;
    const name = m.name.length > 14 ? `${m.name.slice(0, 13)}…` : m.name;
    const text = svg('text', { x, y: ty, class: 'q-name' }, name);
    if (m.leader) text.append(svg('tspan', { class: 'q-lead' }, ' ★ leader'));
    g.append(text);
    g.append(svg('title', {}, `${m.name}: ${m.learner ? 'learner' : up ? 'up' : 'DOWN'}${m.leader ? ', leader' : ''}`));
    root.append(g);
  });
  root.append(
    svg('text', { x: cx, y: cy + 8, class: `q-count ${e.state}` }, `${e.reachableVoting}/${e.votingMembers}`),
  );
  root.append(svg('text', { x: cx, y: cy + 26, class: 'q-sub' }, 'members up'));
  // The scale: one block per voting member, up ones first; the quorum line after `quorum` blocks.
  const top = 250;
  const width = 280;
  const left = 20;
  const cell = width / Math.max(voting.length, 1);
  const ups = voting.filter((m) => m.reachable).length;
  voting.forEach((_, i) => {
    root.append(
      svg('rect', {
        x: left + i * cell + 3,
        y: top,
        width: cell - 6,
        height: 26,
        rx: 4,
        class: i < ups ? 'q-slot-up' : 'q-slot-down',
      }),
    );
  });
  const qx = left + e.quorum * cell;
  root.append(svg('line', { x1: qx, y1: top - 8, x2: qx, y2: top + 34, class: 'q-line' }));
  root.append(svg('text', { x: qx, y: top - 13, class: 'q-sub' }, `quorum ${e.quorum}`));
  root.append(svg('text', { x: cx, y: top + 58, class: `q-words ${e.state}` }, e.marginWords));
  return root;
}
