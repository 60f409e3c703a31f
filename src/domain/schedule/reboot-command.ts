/**
 * Does a cron job's command reboot the machine? Recognises `reboot`, `/sbin/reboot`, `shutdown -r [now|+N]`,
 * `systemctl reboot` (also soft-reboot and kexec), `init 6` / `telinit 6` and the sysrq trigger, behind `sudo`,
 * `env`, `nohup`, `nice`, `timeout`, variable assignments, and after `sleep N` or `sleep $((RANDOM % N))` (a fixed
 * or random delay). Commands that power the machine off (`poweroff`, `halt`, `shutdown -h`, plain `shutdown`) are
 * told apart: the node does not come back by itself.
 */
export type CommandKind =
  | { kind: 'reboot'; offsetMs: number; jitterMs: number; what: string }
  | { kind: 'power-off'; what: string }
  | { kind: 'other' };

/** Command wrappers, with their options that take an argument. */
const WRAPPERS: Record<string, string[]> = {
  sudo: ['-u', '-g', '-C', '-D', '-h', '-p', '-r', '-t', '-U'],
  doas: ['-u', '-C'],
  env: ['-u', '-C', '-S'],
  nice: ['-n'],
  ionice: ['-c', '-n', '-p'],
  timeout: ['-s', '-k'],
  nohup: [],
  exec: [],
  command: [],
};

export function classifyCommand(command: string): CommandKind {
  // In a crontab, an unescaped % ends the command (the rest is stdin).
  const cut = command
    .replace(/\\%/g, '\u0000')
    .split('%')[0]!
    .replace(/\u0000/g, '%');
  let offsetMs = 0;
  let jitterMs = 0;
  for (const part of cut.split(/;|&&|\|\||\||&|\n/)) {
    const words = unwrap(part.trim().split(/\s+/).filter(Boolean));
    const [head, ...args] = words;
    if (!head) continue;
    const name = head.split('/').pop()!;
    if (name === 'sleep') {
      const delay = sleepDelay(args.join(' '));
      offsetMs += delay.offsetMs;
      jitterMs += delay.jitterMs;
      continue;
    }
    const kind = classifyWords(name, args, part);
    if (kind.kind === 'reboot') return { ...kind, offsetMs: offsetMs + kind.offsetMs, jitterMs };
    if (kind.kind === 'power-off') return kind;
  }
  return { kind: 'other' };
}

function unwrap(words: string[]): string[] {
  let i = 0;
  while (i < words.length) {
    const w = words[i]!;
    const base = w.split('/').pop()!;
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) i++;
    else if (Object.hasOwn(WRAPPERS, base)) {
      const withArgument = WRAPPERS[base]!;
      i++;
      // Options of the wrapper (sudo -n, nice -n 10, timeout 60, timeout -s KILL 60).
      while (i < words.length && (words[i]!.startsWith('-') || /^\d+[smhd]?$/.test(words[i]!))) {
        const opt = words[i]!;
        i++;
        if (withArgument.includes(opt) && i < words.length) i++;
      }
    } else break;
  }
  return words.slice(i);
}

function classifyWords(name: string, args: string[], raw: string): CommandKind {
  const what = `${name}${args.length ? ` ${args.join(' ')}` : ''}`;
  if (raw.includes('sysrq-trigger') && /\becho\s+b\b/.test(raw))
    return { kind: 'reboot', offsetMs: 0, jitterMs: 0, what };
  if (name === 'reboot') {
    if (args.some((a) => a === '-p' || a === '--poweroff' || a === '--halt')) return { kind: 'power-off', what };
    return { kind: 'reboot', offsetMs: 0, jitterMs: 0, what };
  }
  if (name === 'poweroff' || name === 'halt') return { kind: 'power-off', what };
  if (name === 'shutdown') {
    const reboot = args.some((a) => a === '--reboot' || /^-[a-zA-Z]*r[a-zA-Z]*$/.test(a));
    if (!reboot) return { kind: 'power-off', what };
    const when = args.find((a) => !a.startsWith('-'));
    const plus = when ? /^\+(\d+)$/.exec(when) : null;
    return { kind: 'reboot', offsetMs: plus ? Number(plus[1]) * 60_000 : 0, jitterMs: 0, what };
  }
  if (name === 'systemctl') {
    const verb = args.find((a) => !a.startsWith('-'));
    if (verb === 'reboot' || verb === 'soft-reboot' || verb === 'kexec')
      return { kind: 'reboot', offsetMs: 0, jitterMs: 0, what };
    if (verb === 'poweroff' || verb === 'halt') return { kind: 'power-off', what };
    return { kind: 'other' };
  }
  if (name === 'init' || name === 'telinit') {
    if (args[0] === '6') return { kind: 'reboot', offsetMs: 0, jitterMs: 0, what };
    if (args[0] === '0') return { kind: 'power-off', what };
  }
  return { kind: 'other' };
}

const UNIT: Record<string, number> = { '': 1000, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function sleepDelay(arg: string): { offsetMs: number; jitterMs: number } {
  const fixed = /^(\d+)([smhd]?)$/.exec(arg.trim());
  if (fixed) return { offsetMs: Number(fixed[1]) * UNIT[fixed[2]!]!, jitterMs: 0 };
  const random = /\$\(\(\s*(?:\$?RANDOM|\$\{RANDOM\})\s*%\s*(\d+)\s*\)\)/.exec(arg);
  if (random) return { offsetMs: 0, jitterMs: Math.max(0, Number(random[1]) - 1) * 1000 };
  return { offsetMs: 0, jitterMs: 0 };
}
