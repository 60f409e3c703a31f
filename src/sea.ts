/**
 * Entry point of the single-file executable (ADR 011, scripts/build-sea.mjs): Node with this program built in, for
 * hosts without Node. The embedding comes first, so that package.json is read from the executable.
 */
import './sea-embed.js';
import { main } from './cli.js';
import { exitWhenDone, installProcessGuards } from './process-guards.js';

installProcessGuards();
main(process.argv).then(exitWhenDone);
