// Runs many lifeboat command lines in ONE process, each through the bundle's main(argv) exactly as bin/lifeboat.js
// does, with stdout and stderr captured per command line. Started by runCliBatch (test/helpers/cli-batch.ts): a corpus
// of hundreds of bad inputs costs one Node start instead of hundreds. Protocol on fd 3, one JSON object a line:
// {start: i} before command line i, then {done: i, code, stdout, stderr, ms}. The parent kills this process when a
// command line runs past its deadline (a hang), and starts another from the next command line.
import { readFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [bundle, casesFile, fromText] = process.argv.slice(2);
const cli = createRequire(import.meta.url)(join(bundle, 'lifeboat.cjs'));
const cases = JSON.parse(readFileSync(casesFile, 'utf8'));
const from = Number(fromText);

const tell = (message) => writeSync(3, `${JSON.stringify(message)}\n`);
const out = { stdout: '', stderr: '' };
for (const name of ['stdout', 'stderr']) {
  process[name].write = (chunk, encoding, callback) => {
    out[name] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') done();
    return true;
  };
}
// The CLI would die of these with a stack trace: report them against the command line that is running.
let current = -1;
for (const event of ['uncaughtException', 'unhandledRejection']) {
  process.on(event, (err) => {
    tell({ crash: current, error: String(err?.stack ?? err) });
    process.exit(70);
  });
}
cli.installProcessGuards();
// Hundreds of command lines each add their SIGINT handler; that is the batch, not the CLI.
process.setMaxListeners(0);

for (let i = from; i < cases.length; i++) {
  current = i;
  out.stdout = '';
  out.stderr = '';
  tell({ start: i });
  const started = Date.now();
  // As bin/lifeboat.js runs it: code that reads process.argv itself must see this command line.
  process.argv = ['node', 'lifeboat', ...cases[i]];
  const code = await cli.main(process.argv);
  tell({ done: i, code, stdout: out.stdout, stderr: out.stderr, ms: Date.now() - started });
}
process.exit(0);
