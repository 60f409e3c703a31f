import { describe, expect, it } from 'vitest';
import { runToEnd } from '../../src/adapters/proc/run.js';

describe('runToEnd (the one spawn-and-collect)', () => {
  it('collects stdout whole, the tail of stderr, and both interleaved', async () => {
    const r = await runToEnd('sh', ['-c', 'echo out1; printf 0123456789 >&2; echo out2; exit 3'], { tailChars: 4 });
    expect(r).toMatchObject({ code: 3, signal: null, timedOut: false, stdout: 'out1\nout2\n' });
    expect(r.stderr).toBe('6789');
    expect(r.output).toHaveLength(4);
  });

  it('passes the environment on top of this one', async () => {
    const r = await runToEnd('sh', ['-c', 'echo "$LB_RUN_TEST"; echo "$PATH" | grep -q / && echo path'], {
      env: { LB_RUN_TEST: 'x' },
    });
    expect(r.stdout).toBe('x\npath\n');
  });

  it('kills at the deadline and says so', async () => {
    const started = Date.now();
    const r = await runToEnd('sh', ['-c', 'exec sleep 30'], { timeoutMs: 200 });
    expect(r).toMatchObject({ code: null, signal: 'SIGKILL', timedOut: true });
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('an abort kills the child; a missing program is a result, not a rejection', async () => {
    const controller = new AbortController();
    const running = runToEnd('sh', ['-c', 'exec sleep 30'], { signal: controller.signal });
    controller.abort();
    expect(await running).toMatchObject({ code: null, signal: 'SIGKILL', timedOut: false });
    const missing = await runToEnd('/nonexistent/lifeboat-no-such-program', []);
    expect(missing.code).toBeNull();
    expect(missing.error).toMatch(/ENOENT/);
  });
});
