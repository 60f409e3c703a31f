// `crictl` for the kubeadm node simulator: answers `crictl ps [-a] [-q] [--name REGEX] [--state S]` from the static-pod
// runner's state file (KUBELET_SIM_STATE/containers.json), the only crictl calls runbooks make.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
if (args[0] !== 'ps') {
  console.error(`crictl (simulated): only "ps" is supported, not ${args[0] ?? '(nothing)'}`);
  process.exit(1);
}
let quiet = false;
let all = false;
let name;
let state;
for (let i = 1; i < args.length; i++) {
  const a = args[i];
  if (a === '-q' || a === '--quiet') quiet = true;
  else if (a === '-a' || a === '--all') all = true;
  else if (a === '--name') name = args[++i];
  else if (a.startsWith('--name=')) name = a.slice(7);
  else if (a === '--state') state = args[++i];
  else if (a.startsWith('--state=')) state = a.slice(8);
}
let containers = [];
try {
  containers = JSON.parse(
    readFileSync(join(process.env.KUBELET_SIM_STATE ?? '/run/kubelet-sim', 'containers.json'), 'utf8'),
  ).containers;
} catch {
  // No kubelet has run on this node since boot: no containers.
}
const wanted = containers.filter(
  (c) =>
    (all || state ? true : c.state === 'CONTAINER_RUNNING') &&
    (!state || c.state.toLowerCase().includes(state.toLowerCase())) &&
    (!name || new RegExp(name).test(c.name)),
);
if (quiet) for (const c of wanted) console.log(c.id);
else {
  console.log('CONTAINER       STATE                NAME     ATTEMPT  POD');
  for (const c of wanted)
    console.log(`${c.id.padEnd(15)} ${c.state.padEnd(20)} ${c.name.padEnd(8)} ${String(c.attempt).padEnd(8)} ${c.pod}`);
}
