#!/usr/bin/env node
// Thin launcher: the bundled CLI lives in dist/bundle/ (run `npm run build` first).
import module from 'node:module';

// Node >= 22.1 can keep compiled code between runs (what npm itself does): a faster start for every command.
// Node 20 has no such API; the bundle alone is what keeps start-up short there.
module.enableCompileCache?.();

// A library that sets the TLS ServerName to an IP address (an S3 endpoint given by IP, say) makes Node print
// DEP0123 on every connection; it is noise to a user reading `doctor`. Every other warning still prints.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const code = typeof rest[0] === 'object' ? rest[0]?.code : rest[1];
  if (code === 'DEP0123') return;
  emitWarning(warning, ...rest);
};

// `lifeboat status | head` closes the pipe early; that is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const { main } = await import('../dist/bundle/lifeboat.mjs');
main(process.argv).then((code) => {
  process.exitCode = code;
});
