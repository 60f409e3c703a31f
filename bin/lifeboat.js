#!/usr/bin/env node
// Thin launcher for the bundled CLI in dist/bundle/ (run `npm run build` first). CommonJS (bin/package.json says so),
// like the bundle: Node starts a CommonJS program without its ES module loader, and V8 can cache CommonJS code
// (ADR 009). The single-file executable starts at src/sea.ts instead (ADR 011).
'use strict';
const { join } = require('node:path');

const bundle = join(__dirname, '..', 'dist', 'bundle');
// Compiled code is kept between runs (in ~/.cache/lifeboat): a shorter start for every command after the first.
require(join(bundle, 'code-cache.cjs')).enableCodeCache(bundle);

const cli = require(join(bundle, 'lifeboat.cjs'));
// Warnings that are noise to a user, and EPIPE when `lifeboat status | head` closes the pipe early.
cli.installProcessGuards();
// A handle left open (a socket to a frozen etcd member) must not keep a finished command alive.
cli.main(process.argv).then(cli.exitWhenDone);
