import type { StatusDocument } from '../../server/status.js';
import { ago, bytes, clock, fill, h, quorumPicture, span, tag, when } from './client-dom.js';

/**
 * Browser code of the status page, part 2: one function per panel, each replacing its panel's content from the
 * status document. Serialised into /app.js like part 1 (the imports above are for type checking only: at run time
 * the functions find each other by name in one script).
 */

export function renderEtcd(doc: StatusDocument): void {
  const e = doc.etcd;
  const pill = document.getElementById('pill')!;
  pill.className = `pill pill-${e ? e.state : 'unknown'}`;
  pill.textContent = e ? e.state.replace('-', ' ') : 'no probe yet';
  document.body.dataset.state = e ? e.state : 'unknown';
  if (!e) return;
  const headline = document.getElementById('headline')!;
  headline.className = `headline ${e.state}`;
  headline.textContent = e.headline;
  fill('explanation', e.explanation);
  fill('quorum-picture', quorumPicture(e));
  const rows = e.members.map((m) =>
    h(
      'tr',
      null,
      h('td', null, h('strong', null, m.name), m.leader ? ' ★' : ''),
      h('td', null, m.learner ? tag('info', 'learner') : m.reachable ? tag('ok', 'up') : tag('bad', 'DOWN')),
      h('td', { class: 'hide-narrow mono' }, m.endpoint),
      h('td', null, m.reachable ? `${m.raftIndex ?? ''}` : (m.error ?? '')),
      h('td', { class: 'hide-narrow' }, m.reachable ? `${bytes(m.dbSize)} · v${m.version ?? '?'}` : ''),
    ),
  );
  const head = h(
    'tr',
    null,
    h('th', null, 'member'),
    h('th', null, 'state'),
    h('th', { class: 'hide-narrow' }, 'endpoint'),
    h('th', null, 'raft index / error'),
    h('th', { class: 'hide-narrow' }, 'db · version'),
  );
  const probe = `probed ${clock(e.probedAt)} in ${e.probeMs} ms · leader ${e.leader ?? 'none'} · ${e.leaderChanges} leader change${e.leaderChanges === 1 ? '' : 's'} seen`;
  fill(
    'members',
    h('div', { class: 'scroll' }, h('table', null, h('thead', null, head), h('tbody', null, ...rows))),
    h('p', { class: 'muted' }, probe),
  );
}

export function renderPlan(doc: StatusDocument): void {
  const e = doc.etcd;
  const p = doc.plan;
  if (!e) {
    fill('plan-body', h('p', { class: 'muted' }, 'Waiting for the first probe.'));
    return;
  }
  if (!p) {
    fill(
      'plan-body',
      h('p', null, tag('ok', 'nothing to recover'), ' Every member answers.'),
      h('p', { class: 'muted' }, 'If that changes, the plan `lifeboat doctor` would choose appears here at once.'),
    );
    return;
  }
  fill(
    'plan-body',
    h('p', { class: 'plan-title' }, p.title),
    h('p', null, h('strong', null, 'Data loss: '), p.dataLoss),
    h('p', null, h('strong', null, 'When: '), p.when),
    h('ol', { class: 'steps' }, ...p.steps.map((s) => h('li', null, s))),
    doc.otherPlans.length ? h('p', { class: 'muted' }, `Other options: ${doc.otherPlans.join('; ')}.`) : null,
    h('p', { class: 'muted' }, 'Dry run first: lifeboat recover --plan ', h('code', null, p.name)),
  );
}

export function renderAlerts(doc: StatusDocument): void {
  const rank = (key: string) => (key === 'etcd-quorum' ? 0 : key.startsWith('check/') ? 2 : 1);
  const firing = [...doc.alerts.firing].sort(
    (x, y) => rank(x.key) - rank(y.key) || Number(x.severity !== 'critical') - Number(y.severity !== 'critical'),
  );
  const hooks = `${doc.alerts.webhooks} webhook${doc.alerts.webhooks === 1 ? '' : 's'} configured`;
  if (firing.length === 0) {
    fill('alerts-body', h('p', null, tag('ok', 'none firing'), ` ${hooks}.`));
    return;
  }
  const now = Date.parse(doc.generatedAt);
  fill(
    'alerts-body',
    ...firing.map((a) =>
      h(
        'div',
        { class: `alert ${a.severity}` },
        h('div', { class: 't' }, a.title),
        h('div', null, a.detail),
        h('div', { class: 'muted' }, `since ${ago(a.sinceIso, now)}`),
      ),
    ),
    h('p', { class: 'muted' }, `${hooks}.`),
  );
}

export function renderBackups(doc: StatusDocument): void {
  const b = doc.backups;
  const now = Date.parse(doc.generatedAt);
  if (!b.destination && b.kinds.length === 0) {
    fill(
      'backup-kinds',
      h('p', null, tag('bad', 'no backups configured'), ' Add backups.to and backups.etcd.every to the config.'),
    );
    return;
  }
  fill(
    'backup-kinds',
    ...b.kinds.map((k) =>
      h(
        'div',
        { class: `kind${k.stale ? ' stale' : ''}` },
        h(
          'div',
          { class: 'name' },
          k.kind,
          k.everyMs ? h('span', { class: 'muted' }, ` · every ${span(k.everyMs)}`) : '',
        ),
        k.stale ? h('div', null, tag('bad', 'older than its schedule allows')) : null,
        h('div', null, `newest: ${k.lastSuccessAt ? `${ago(k.lastSuccessAt, now)} (${bytes(k.bytes)})` : 'none'}`),
        k.verifiable
          ? h('div', null, 'verified: ', k.lastVerifiedAt ? ago(k.lastVerifiedAt, now) : tag('warn', 'never'))
          : null,
        k.lastVerify && !k.lastVerify.ok ? h('div', null, tag('bad', 'latest drill failed')) : null,
        k.lastFailure
          ? h('div', { class: 'muted' }, `last failure ${ago(new Date(k.lastFailure.at).toISOString(), now)}`)
          : null,
        h('div', { class: 'muted' }, `${k.count} in store`),
      ),
    ),
    b.error ? h('p', null, tag('bad', 'store error'), ` ${b.error}`) : null,
  );
  const t = b.timeline;
  if (!t) {
    fill('timeline');
    return;
  }
  const legend = h(
    'div',
    { class: 'legend' },
    ...[
      ['verified', 'taken and verified'],
      ['taken', 'taken'],
      ['failed', 'failed'],
    ].map(([c, text]) => h('span', null, h('i', { class: `cell ${c}` }), text ?? '')),
  );
  const strips = t.kinds.map((k) =>
    h(
      'div',
      { class: 'strip' },
      h('strong', null, k.kind),
      h(
        'div',
        { class: 'cells' },
        ...k.cells.map((c, i) => {
          const cls = c.failed
            ? c.verified || c.taken
              ? 'failed partial'
              : 'failed'
            : c.verified
              ? 'verified'
              : c.taken
                ? 'taken'
                : '';
          const title = `${t.days[i]?.label}: ${c.taken} taken, ${c.verified} verified, ${c.failed} failed`;
          return h('div', { class: `cell ${cls}`, title, 'aria-label': title });
        }),
      ),
    ),
  );
  const axis = h(
    'div',
    { class: 'strip' },
    h('span'),
    h('div', { class: 'axis' }, h('span', null, t.days[0]?.label ?? ''), h('span', null, 'today')),
  );
  fill('timeline', legend, ...strips, axis);
  const rows = t.rows
    .slice(0, 15)
    .map((r) =>
      h(
        'tr',
        { class: `row-${r.status}` },
        h('td', { class: 'nowrap' }, when(r.at, now), h('div', { class: 'muted' }, ago(r.at, now))),
        h('td', null, r.kind),
        h(
          'td',
          null,
          r.status === 'verified'
            ? tag('ok', 'taken · verified')
            : r.status === 'unverified'
              ? tag('info', 'taken')
              : tag('bad', r.status === 'failed' ? 'FAILED' : 'verify failed'),
          r.status === 'failed' || r.status === 'verify-failed' ? h('div', { class: 'show-narrow' }, r.detail) : null,
        ),
        h(
          'td',
          { class: 'hide-narrow' },
          r.name ? h('span', { class: 'mono' }, r.name) : '',
          r.size !== null ? ` ${bytes(r.size)}` : '',
        ),
        h('td', { class: 'hide-narrow' }, r.detail),
      ),
    );
  fill(
    'backup-rows',
    rows.length
      ? h(
          'div',
          { class: 'scroll' },
          h(
            'table',
            null,
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                ...['when', 'kind', 'result', 'backup', 'detail'].map((x, i) =>
                  h('th', i >= 3 ? { class: 'hide-narrow' } : null, x),
                ),
              ),
            ),
            h('tbody', null, ...rows),
          ),
        )
      : h('p', null, tag('bad', 'no backup in the last 30 days')),
  );
}

export function renderPointInTime(doc: StatusDocument): void {
  const p = doc.pointInTime;
  if (!p) {
    fill(
      'pitr-body',
      h('p', { class: 'muted' }, 'No change log. With backups.etcd.follow: true any moment can be restored.'),
    );
    return;
  }
  const now = Date.parse(doc.generatedAt);
  const f = p.follower;
  const state = f
    ? h(
        'p',
        null,
        f.lagSeconds < 5 ? tag('ok', 'following') : tag('warn', `${Math.round(f.lagSeconds)} s behind`),
        ` durable up to revision ${f.durableRevision} (${clock(f.durableAt)}) · lag ${f.lagRevisions} revision${f.lagRevisions === 1 ? '' : 's'}, ${f.lagSeconds.toFixed(1)} s`,
        f.endpoint ? h('span', { class: 'muted hide-narrow' }, ` · via ${f.endpoint}`) : '',
        f.gaps ? h('span', null, ' ', tag('bad', `${f.gaps} gap${f.gaps === 1 ? '' : 's'}`)) : '',
      )
    : h('p', null, tag('warn', 'not following'), ' serve runs no follower: the log ends where it stopped.');
  const rows = p.windows.map((w) =>
    h(
      'tr',
      null,
      h('td', null, `${clock(w.from)} .. ${clock(w.to)}`, h('div', { class: 'muted' }, ago(w.to, now))),
      h('td', { class: 'mono' }, `${w.fromRevision}..${w.toRevision}`),
      h(
        'td',
        null,
        w.problem
          ? tag('bad', 'BROKEN')
          : w.reason === 'started'
            ? tag('ok', 'restorable')
            : tag('warn', `restorable, after ${w.reason}`),
        w.problem ? h('div', { class: 'muted' }, w.problem) : null,
      ),
      h('td', { class: 'hide-narrow mono muted' }, w.chain),
    ),
  );
  const head = h(
    'tr',
    null,
    h('th', null, 'restorable window'),
    h('th', null, 'revisions'),
    h('th', null, 'state'),
    h('th', { class: 'hide-narrow' }, 'chain'),
  );
  fill(
    'pitr-body',
    state,
    rows.length
      ? h('div', { class: 'scroll' }, h('table', null, h('thead', null, head), h('tbody', null, ...rows)))
      : h('p', { class: 'muted' }, 'No chain in the store yet.'),
  );
}

export function renderJobs(doc: StatusDocument): void {
  if (doc.jobs.length === 0) {
    fill('jobs-body', h('p', { class: 'muted' }, 'Nothing scheduled (backups.etcd.every, databases[].every).'));
    return;
  }
  const now = Date.parse(doc.generatedAt);
  const rows = doc.jobs.map((j) =>
    h(
      'tr',
      null,
      h('td', null, h('strong', null, j.name), h('div', { class: 'muted' }, `every ${span(j.every)}`)),
      h(
        'td',
        null,
        j.running
          ? tag('info', 'running')
          : j.last
            ? j.last.ok
              ? tag('ok', 'ok')
              : tag('bad', 'FAILED')
            : tag('info', 'not run yet'),
        j.last ? h('div', { class: 'muted' }, ago(j.last.at, now)) : null,
      ),
      h(
        'td',
        null,
        j.last ? j.last.summary : '',
        j.nextRunAt ? h('div', { class: 'muted' }, `next ${ago(j.nextRunAt, now)}`) : null,
      ),
    ),
  );
  fill('jobs-body', h('div', { class: 'scroll' }, h('table', null, h('tbody', null, ...rows))));
}

export function renderEvents(doc: StatusDocument): void {
  fill(
    'events-list',
    ...doc.events.map((e) =>
      h(
        'li',
        { class: e.level },
        h('span', { class: 'time' }, clock(e.at)),
        h('span', { class: 'msg' }, h('strong', null, `${e.topic} `), e.message),
      ),
    ),
  );
}
