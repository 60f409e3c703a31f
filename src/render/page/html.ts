/**
 * The status page shell. Everything visible is filled in by /app.js from /api/status; without JavaScript the page
 * says where the JSON is. No external resources: it works offline, behind a VPN, on a phone.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Lifeboat</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header class="top">
  <div class="brand"><img src="/favicon.svg" alt="" width="28" height="28"><span>Lifeboat</span><span id="cluster" class="cluster"></span></div>
  <div class="meta"><span id="pill" class="pill pill-unknown">connecting</span><span id="updated" class="muted"></span></div>
</header>
<div id="banner" class="banner" hidden></div>
<main>
  <section id="quorum" class="card wide" aria-labelledby="quorum-h">
    <h2 id="quorum-h">etcd quorum</h2>
    <div class="quorum-grid">
      <div id="quorum-picture" class="picture"></div>
      <div>
        <p id="headline" class="headline">Waiting for the first probe…</p>
        <p id="explanation" class="explanation"></p>
        <div id="members"></div>
      </div>
    </div>
  </section>
  <section id="plan" class="card" aria-labelledby="plan-h">
    <h2 id="plan-h">Recovery plan</h2>
    <div id="plan-body"><p class="muted">No probe yet.</p></div>
  </section>
  <section id="alerts" class="card" aria-labelledby="alerts-h">
    <h2 id="alerts-h">Alerts</h2>
    <div id="alerts-body"><p class="muted">None.</p></div>
  </section>
  <section id="backups" class="card wide" aria-labelledby="backups-h">
    <h2 id="backups-h">Backups, last 30 days</h2>
    <div id="backup-kinds" class="kinds"></div>
    <div id="timeline"></div>
    <div id="backup-rows"></div>
  </section>
  <section id="pitr" class="card wide" aria-labelledby="pitr-h">
    <h2 id="pitr-h">Point-in-time restore</h2>
    <div id="pitr-body"><p class="muted">No change log.</p></div>
  </section>
  <section id="calendar" class="card wide" aria-labelledby="calendar-h">
    <h2 id="calendar-h">Maintenance calendar, next 14 days</h2>
    <p id="locks" class="locks"></p>
    <div id="calendar-body"><p class="muted">No nodes with reboot schedules in the config.</p></div>
  </section>
  <section id="jobs" class="card" aria-labelledby="jobs-h">
    <h2 id="jobs-h">Schedules</h2>
    <div id="jobs-body"><p class="muted">Nothing scheduled.</p></div>
  </section>
  <section id="events" class="card" aria-labelledby="events-h">
    <h2 id="events-h">Recent events</h2>
    <ol id="events-list" class="events"></ol>
  </section>
</main>
<footer class="muted">Lifeboat <span id="version"></span> · <a href="/api/status">/api/status</a> · <a href="/metrics">/metrics</a> · <a href="/healthz">/healthz</a><noscript> · This page needs JavaScript; the same data is at /api/status.</noscript></footer>
</body>
</html>
`;

export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="12" fill="none" stroke="#d1242f" stroke-width="7"/><circle cx="16" cy="16" r="12" fill="none" stroke="#fff" stroke-width="7" stroke-dasharray="9.42 9.42" stroke-dashoffset="4.7"/><circle cx="16" cy="16" r="15.5" fill="none" stroke="#333" stroke-width="1"/><circle cx="16" cy="16" r="8.5" fill="none" stroke="#333" stroke-width="1"/></svg>
`;
