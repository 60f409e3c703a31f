import { createHash } from 'node:crypto';
import { main, render, renderCalendar, renderLocks, showBanner } from './client.js';
import { ago, bytes, clock, fill, h, quorumPicture, span, svg, tag, when } from './client-dom.js';
import {
  renderAlerts,
  renderBackups,
  renderEtcd,
  renderEvents,
  renderJobs,
  renderPlan,
  renderPointInTime,
} from './client-panels.js';
import { FAVICON_SVG, PAGE_HTML } from './html.js';
import { PAGE_CSS } from './styles.js';

/**
 * The status page's files, built once at start-up. The browser code is type-checked TypeScript (client*.ts) that
 * tsc compiles like the rest; here each function's compiled source (Function.prototype.toString) goes into one
 * script, so there is no bundler and no build step beyond tsc.
 */
const CLIENT_FUNCTIONS: Array<(...args: never[]) => unknown> = [
  h,
  svg,
  fill,
  ago,
  span,
  clock,
  when,
  bytes,
  tag,
  quorumPicture,
  renderEtcd,
  renderPlan,
  renderAlerts,
  renderBackups,
  renderPointInTime,
  renderJobs,
  renderLocks,
  renderEvents,
  renderCalendar,
  render,
  showBanner,
  main,
];

export const PAGE_JS = `'use strict';\n(() => {\n${CLIENT_FUNCTIONS.map((f) => f.toString()).join('\n\n')}\n\nmain();\n})();\n`;

export interface Asset {
  contentType: string;
  body: string;
  etag: string;
}

function asset(contentType: string, body: string): Asset {
  return { contentType, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

export const PAGE_ASSETS: Record<string, Asset> = {
  '/': asset('text/html; charset=utf-8', PAGE_HTML),
  '/app.js': asset('text/javascript; charset=utf-8', PAGE_JS),
  '/app.css': asset('text/css; charset=utf-8', PAGE_CSS),
  '/favicon.svg': asset('image/svg+xml', FAVICON_SVG),
};
