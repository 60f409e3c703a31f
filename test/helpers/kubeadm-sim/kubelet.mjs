// A static-pod runner that behaves like the kubelet does for kubeadm's control-plane manifests, for the kubeadm node
// simulator (test/helpers/kubeadm-sim.ts). Runs inside a node's network and mount namespaces:
//   node kubelet.mjs MANIFESTS_DIR STATE_DIR
// What it copies from the kubelet (the behaviour recovery runbooks must survive):
// - every file in the manifests dir whose name does not start with '.' is a pod; its first container is started;
// - a changed file is a new pod: the old container is stopped (SIGTERM, SIGKILL after the grace period) first;
// - a removed file: the container is stopped with the grace period;
// - a container that exits is restarted with CrashLoopBackOff (10 s doubling to 300 s, reset after 10 min running);
// - startupProbe, then livenessProbe (httpGet): failureThreshold failures in a row kill the container (restarted);
// - `crictl ps` reads STATE_DIR/containers.json (written atomically on every change).
// Times are the kubelet's; KUBELET_SIM_SCALE (e.g. 0.2) shrinks every one of them for tests, and the manifest check
// period (the kubelet's fileCheckFrequency, 20 s) is KUBELET_SIM_SCALE * 20 s.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { parse } from 'yaml';

const [manifestsDir, stateDir] = process.argv.slice(2);
if (!manifestsDir || !stateDir) {
  console.error('usage: kubelet.mjs MANIFESTS_DIR STATE_DIR');
  process.exit(2);
}
const SCALE = Number(process.env.KUBELET_SIM_SCALE ?? 1);
const ms = (seconds) => Math.max(50, seconds * 1000 * SCALE);
const FILE_CHECK = ms(20);
const BACKOFF_START = 10;
const BACKOFF_MAX = 300;
const BACKOFF_RESET = 600;
mkdirSync(stateDir, { recursive: true });

/** file -> { hash, pod, container, backoff, nextStart, stopping, restarts } */
const pods = new Map();
const log = (line) => process.stdout.write(`${new Date().toISOString()} kubelet-sim: ${line}\n`);

function readManifests() {
  const out = new Map();
  let names = [];
  try {
    names = readdirSync(manifestsDir);
  } catch {
    return out;
  }
  for (const name of names) {
    if (name.startsWith('.')) continue;
    let text;
    try {
      text = readFileSync(join(manifestsDir, name), 'utf8');
    } catch {
      continue;
    }
    let pod;
    try {
      pod = parse(text);
    } catch (err) {
      log(`${name}: not YAML (${err.message.split('\n')[0]}), ignored`);
      continue;
    }
    if (!pod?.spec?.containers?.[0]?.command) continue;
    out.set(name, { hash: createHash('sha256').update(text).digest('hex'), pod });
  }
  return out;
}

function writeState() {
  const containers = [];
  for (const [file, p] of pods) {
    const c = p.container;
    if (!c) continue;
    containers.push({
      id: c.id,
      name: p.pod.spec.containers[0].name,
      pod: p.pod.metadata?.name ?? file,
      state: c.exited ? 'CONTAINER_EXITED' : 'CONTAINER_RUNNING',
      pid: c.proc.pid,
      attempt: p.restarts,
      createdAt: c.startedAt,
    });
  }
  const tmp = join(stateDir, `.containers.json.${process.pid}`);
  writeFileSync(tmp, JSON.stringify({ containers }, null, 2));
  renameSync(tmp, join(stateDir, 'containers.json'));
}

function start(file, p) {
  const spec = p.pod.spec.containers[0];
  const [cmd, ...args] = [...spec.command, ...(spec.args ?? [])];
  const out = openSync(join(stateDir, `${p.pod.metadata?.name ?? file}.log`), 'a');
  const env = { ...process.env };
  for (const e of spec.env ?? []) if (e.value !== undefined) env[e.name] = String(e.value);
  const proc = spawn(cmd, args, { stdio: ['ignore', out, out], env, cwd: '/' });
  const c = { id: randomBytes(7).toString('hex').slice(0, 13), proc, startedAt: Date.now(), exited: false };
  c.probe = { startupOk: !spec.startupProbe, failures: 0, timer: undefined };
  p.container = c;
  log(`${file}: started container ${c.id} (pid ${proc.pid}, attempt ${p.restarts})`);
  proc.on('error', (err) => log(`${file}: cannot start ${cmd}: ${err.message}`));
  proc.on('exit', (code, signal) => {
    c.exited = true;
    clearTimeout(c.probe.timer);
    log(`${file}: container ${c.id} exited (${signal ?? code})`);
    if (c.onExit) c.onExit();
    if (pods.get(file) === p && !p.stopping) {
      // CrashLoopBackOff: the delay doubles per restart, and resets after a long enough run.
      const ranSeconds = (Date.now() - c.startedAt) / 1000;
      if (ranSeconds > BACKOFF_RESET) p.backoff = 0;
      p.backoff = p.backoff ? Math.min(BACKOFF_MAX, p.backoff * 2) : BACKOFF_START;
      p.nextStart = Date.now() + ms(p.backoff);
      p.restarts++;
      log(`${file}: back-off ${p.backoff} s before restarting`);
    }
    writeState();
  });
  scheduleProbe(file, p, c);
  writeState();
}

function httpOk(probe) {
  const get = probe.httpGet;
  return new Promise((resolve) => {
    const req = request(
      {
        host: get.host ?? '127.0.0.1',
        port: get.port,
        path: get.path ?? '/',
        timeout: ms(probe.timeoutSeconds ?? 1),
      },
      (res) => {
        res.resume();
        resolve(res.statusCode >= 200 && res.statusCode < 400);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

function scheduleProbe(file, p, c) {
  const spec = p.pod.spec.containers[0];
  const probe = c.probe.startupOk ? spec.livenessProbe : spec.startupProbe;
  if (!probe?.httpGet || c.exited) return;
  const first = c.probe.failures === 0 && !c.probe.started;
  c.probe.started = true;
  const delay = first ? ms(probe.initialDelaySeconds ?? 0) : ms(probe.periodSeconds ?? 10);
  c.probe.timer = setTimeout(async () => {
    if (c.exited || p.container !== c) return;
    const ok = await httpOk(probe);
    if (c.exited || p.container !== c) return;
    if (ok) {
      c.probe.failures = 0;
      if (!c.probe.startupOk) {
        c.probe.startupOk = true;
        c.probe.started = false;
      }
    } else if (++c.probe.failures >= (probe.failureThreshold ?? 3)) {
      const which = c.probe.startupOk ? 'liveness' : 'startup';
      log(`${file}: ${which} probe failed ${c.probe.failures} times: killing container ${c.id}`);
      kill(c, p.pod);
      return;
    }
    scheduleProbe(file, p, c);
  }, delay);
}

/** SIGTERM, then SIGKILL after the pod's grace period (30 s by default). Resolves once the process is gone. */
function kill(c, pod) {
  return new Promise((resolve) => {
    if (c.exited) return resolve();
    c.onExit = resolve;
    c.proc.kill('SIGTERM');
    const grace = ms(pod.spec.terminationGracePeriodSeconds ?? 30);
    setTimeout(() => {
      if (!c.exited) c.proc.kill('SIGKILL');
    }, grace).unref();
  });
}

async function stop(file, p, why) {
  p.stopping = true;
  if (p.container && !p.container.exited) {
    log(`${file}: ${why}: stopping container ${p.container.id}`);
    await kill(p.container, p.pod);
  }
  pods.delete(file);
  writeState();
}

let syncing = false;
async function sync() {
  if (syncing) return;
  syncing = true;
  try {
    const desired = readManifests();
    const stops = [];
    for (const [file, p] of pods) {
      const want = desired.get(file);
      if (!want) stops.push(stop(file, p, 'manifest removed'));
      else if (want.hash !== p.hash) stops.push(stop(file, p, 'manifest changed'));
    }
    await Promise.all(stops);
    for (const [file, want] of desired) {
      let p = pods.get(file);
      if (!p) {
        p = { ...want, container: undefined, backoff: 0, nextStart: 0, stopping: false, restarts: 0 };
        pods.set(file, p);
      }
      const running = p.container && !p.container.exited;
      if (!running && Date.now() >= p.nextStart) start(file, p);
    }
  } finally {
    syncing = false;
  }
}

log(`watching ${manifestsDir}`);
writeState();
// The kubelet sees manifest changes at once (inotify) and re-lists every fileCheckFrequency; polling twice a second
// (or faster when scaled) stands in for both, and also ends back-offs on time.
setInterval(() => sync().catch((err) => log(`sync failed: ${err.message}`)), Math.min(500, FILE_CHECK));
// Teardown only: a real `systemctl stop kubelet` leaves containers running, which tests model as a power cut instead
// (SIGKILL to the node's whole process group).
process.on('SIGTERM', () => {
  for (const p of pods.values()) if (p.container && !p.container.exited) p.container.proc.kill('SIGKILL');
  process.exit(0);
});
