#!/usr/bin/env node
// Thin launcher for the bundled CLI in dist/bundle/ (run `npm run build` first). CommonJS (bin/package.json says so),
// like the bundle: Node starts a CommonJS program without its ES module loader, and V8 can cache CommonJS code
// (ADR 009).
'use strict';
const { join } = require('node:path');

const bundle = join(__dirname, '..', 'dist', 'bundle');
// Compiled code is kept between runs (in ~/.cache/lifeboat): a shorter start for every command after the first.
require(join(bundle, 'code-cache.cjs')).enableCodeCache(bundle);

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

require(join(bundle, 'lifeboat.cjs'))
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
