import { describe, expect, it } from 'vitest';
import * as part3 from '../../../src/render/page/client.js';
import * as part1 from '../../../src/render/page/client-dom.js';
import * as part2 from '../../../src/render/page/client-panels.js';
import { PAGE_ASSETS, PAGE_JS } from '../../../src/render/page/index.js';

describe('status page assets', () => {
  it('the script holds every page function (they call each other by name)', () => {
    const names = [part1, part2, part3].flatMap((m) =>
      Object.entries(m)
        .filter(([, v]) => typeof v === 'function')
        .map(([k]) => k),
    );
    expect(names.length).toBeGreaterThan(15);
    for (const name of names) expect(PAGE_JS, name).toContain(`function ${name}(`);
    expect(PAGE_JS.trimEnd().endsWith('main();\n})();')).toBe(true);
  });

  it('serves page, script, style and icon with their types and strong validators', () => {
    expect(Object.keys(PAGE_ASSETS).sort()).toEqual(['/', '/app.css', '/app.js', '/favicon.svg']);
    expect(PAGE_ASSETS['/']!.contentType).toBe('text/html; charset=utf-8');
    expect(PAGE_ASSETS['/']!.body).not.toMatch(/<script>|style="/); // nothing inline: the CSP forbids it
    for (const a of Object.values(PAGE_ASSETS)) expect(a.etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
  });
});
