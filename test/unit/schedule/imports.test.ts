import { describe, expect, it } from 'vitest';
import { parseCrontab } from '../../../src/domain/schedule/crontab.js';
import { classifyCommand } from '../../../src/domain/schedule/reboot-command.js';
import { parseTimerUnit, parseTimespan } from '../../../src/domain/schedule/timer.js';
import { SourceLineError } from '../../../src/domain/schedule/types.js';

describe('reboot commands', () => {
  it.each([
    'reboot',
    '/sbin/reboot',
    '/usr/sbin/shutdown -r now',
    'shutdown -rF now',
    'shutdown --reboot +0',
    'systemctl reboot',
    '/usr/bin/systemctl --force reboot',
    'sudo -n /sbin/reboot',
    'kubectl drain $(hostname) --ignore-daemonsets && /sbin/reboot',
    'env PATH=/usr/sbin reboot',
    'init 6',
    'echo b > /proc/sysrq-trigger',
  ])('%s reboots', (cmd) => {
    expect(classifyCommand(cmd).kind).toBe('reboot');
  });

  it.each(['poweroff', 'shutdown -h now', 'shutdown now', 'systemctl poweroff', 'halt'])('%s powers off', (cmd) => {
    expect(classifyCommand(cmd).kind).toBe('power-off');
  });

  it.each(['apt-get update', 'echo reboot', 'backup.sh --reboot-safe', 'systemctl restart kubelet'])(
    '%s is something else',
    (cmd) => {
      expect(classifyCommand(cmd).kind).toBe('other');
    },
  );

  it('turns shutdown +N and sleeps into a delay, $RANDOM sleeps into an uncertainty window', () => {
    expect(classifyCommand('shutdown -r +5')).toMatchObject({ offsetMs: 300_000, jitterMs: 0 });
    expect(classifyCommand('sleep 120 && reboot')).toMatchObject({ offsetMs: 120_000, jitterMs: 0 });
    // In a crontab % must be escaped; unescaped, cron cuts the command there and the reboot never runs.
    expect(classifyCommand('sleep $((RANDOM \\% 1800)); /sbin/reboot')).toMatchObject({
      offsetMs: 0,
      jitterMs: 1_799_000,
    });
    expect(classifyCommand('sleep $((RANDOM % 1800)); /sbin/reboot').kind).toBe('other');
    expect(classifyCommand('/sbin/reboot % ignored stdin').kind).toBe('reboot');
  });
});

describe('crontab files', () => {
  const text = [
    '# m h dom mon dow command',
    'SHELL=/bin/sh',
    'MAILTO=""',
    '0 4 * * 1 /sbin/shutdown -r now',
    '',
    'CRON_TZ=Asia/Tokyo',
    '30 3 * * 2 root systemctl reboot',
    '*/5 * * * * /usr/local/bin/backup.sh',
    '@reboot /sbin/reboot',
    'this is not cron',
    '0 3 * * 0 poweroff',
  ].join('\n');

  it('classifies every line: reboots (with or without a user field), jobs, env, unrecognised', () => {
    const lines = parseCrontab(text, 'UTC');
    expect(lines.map((l) => l.kind)).toEqual([
      'comment',
      'env',
      'env',
      'reboot',
      'blank',
      'env',
      'reboot',
      'job',
      'reboot',
      'unrecognised',
      'power-off',
    ]);
    const reboots = lines.filter((l) => l.kind === 'reboot');
    expect(reboots.map((r) => [r.line, r.cron.source, r.timezone, r.user])).toEqual([
      [4, '0 4 * * 1', 'UTC', undefined],
      [7, '30 3 * * 2', 'Asia/Tokyo', 'root'],
      [9, '@reboot', 'Asia/Tokyo', undefined],
    ]);
  });

  it('stops on a reboot line with a bad field, naming the line and the field', () => {
    try {
      parseCrontab('# header\n\n61 4 * * 1 reboot\n', 'UTC');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SourceLineError);
      expect((err as SourceLineError).line).toBe(3);
      expect((err as Error).message).toBe('invalid minute field "61" (0-59)');
    }
  });

  it('reports, rather than fails on, a broken line that does not reboot', () => {
    const [line] = parseCrontab('61 4 * * 1 backup.sh', 'UTC');
    expect(line).toMatchObject({ kind: 'unrecognised', reason: 'invalid minute field "61" (0-59)' });
  });

  it('rejects an unknown CRON_TZ', () => {
    expect(() => parseCrontab('CRON_TZ=Mars/Olympus\n0 4 * * 1 reboot', 'UTC')).toThrow(
      'unknown time zone "Mars/Olympus" in CRON_TZ',
    );
  });
});

describe('systemd timer units', () => {
  it('reads OnCalendar (repeatable, empty resets) and the delays of the [Timer] section', () => {
    const unit = parseTimerUnit(
      [
        '[Unit]',
        'Description=weekly reboot',
        '[Timer]',
        'OnCalendar=Mon *-*-* 05:00:00',
        'OnCalendar=',
        'OnCalendar=Tue *-*-* 04:00:00',
        'OnCalendar=Thu 04:00',
        'RandomizedDelaySec=30min',
        'OnBootSec=1h',
        'Persistent=true',
        '[Install]',
        'WantedBy=timers.target',
      ].join('\n'),
    );
    expect(unit.calendars.map((c) => [c.line, c.expr.source])).toEqual([
      [6, 'Tue *-*-* 04:00:00'],
      [7, 'Thu 04:00'],
    ]);
    expect(unit.jitterMs).toBe(30 * 60_000);
    expect(unit.notes.map((n) => n.line)).toEqual([9]);
  });

  it('names the line of a bad OnCalendar', () => {
    expect(() => parseTimerUnit('[Timer]\nOnCalendar=Mon 24:00')).toThrow(SourceLineError);
  });

  it('parses systemd time spans', () => {
    expect(parseTimespan('90')).toBe(90_000);
    expect(parseTimespan('1h 30min')).toBe(5_400_000);
    expect(parseTimespan('2h30m')).toBe(9_000_000);
    expect(parseTimespan('5 minutes')).toBe(300_000);
    expect(parseTimespan('soon')).toBeUndefined();
  });
});
