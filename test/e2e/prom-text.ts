/**
 * A strict parser of the Prometheus text exposition format (0.0.4), for tests: every line must be a HELP, a TYPE, a
 * comment or a sample; names and label names must be valid; label values use only the three escapes; a family's
 * TYPE comes before its samples and once; a family's samples are contiguous; histogram and summary series use only
 * their suffixes (and buckets have `le`); no series appears twice. Anything else throws with the line number.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help?: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  samples: Sample[];
}

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  let current: Family | undefined;
  const closed = new Set<string>();
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const lines = text.split('\n').slice(0, -1);
  lines.forEach((line, i) => {
    const where = `line ${i + 1}: ${line}`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!METRIC.test(name)) throw new Error(`bad metric name: ${where}`);
      let family = families.get(name);
      if (family && closed.has(name)) throw new Error(`family ${name} continues after another one: ${where}`);
      if (!family) {
        family = { name, type: 'untyped', samples: [] };
        families.set(name, family);
      }
      if (current && current !== family) closed.add(current.name);
      current = family;
      if (kind === 'HELP') {
        if (family.help !== undefined) throw new Error(`second HELP: ${where}`);
        family.help = unescapeHelp(rest, where);
      } else {
        if (!TYPES.has(rest)) throw new Error(`unknown type: ${where}`);
        if (family.samples.length) throw new Error(`TYPE after samples: ${where}`);
        if ((family as { typed?: boolean }).typed) throw new Error(`second TYPE: ${where}`);
        (family as { typed?: boolean }).typed = true;
        family.type = rest as Family['type'];
      }
      return;
    }
    const sample = parseSample(line, where);
    const family = familyOf(sample.name, current);
    if (!family) throw new Error(`sample outside its family (no HELP/TYPE before it): ${where}`);
    checkSuffix(family, sample, where);
    const key = `${sample.name}{${Object.entries(sample.labels)
      .sort()
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(',')}}`;
    if (seen.has(key)) throw new Error(`duplicate series ${key}: ${where}`);
    seen.add(key);
    family.samples.push(sample);
  });
  return families;
}

function familyOf(name: string, current: Family | undefined): Family | undefined {
  if (!current) return undefined;
  if (name === current.name) return current;
  const suffixes =
    current.type === 'histogram'
      ? ['_bucket', '_sum', '_count']
      : current.type === 'summary'
        ? ['_sum', '_count']
        : current.type === 'counter'
          ? ['_total']
          : [];
  return suffixes.some((s) => name === current.name + s) ? current : undefined;
}

function checkSuffix(family: Family, s: Sample, where: string): void {
  if (family.type === 'histogram') {
    if (s.name === family.name) throw new Error(`histogram sample without suffix: ${where}`);
    if (s.name.endsWith('_bucket') && s.labels.le === undefined) throw new Error(`bucket without le: ${where}`);
  }
  if (family.type === 'counter' && s.value < 0) throw new Error(`negative counter: ${where}`);
}

function parseSample(line: string, where: string): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)( -?\d+)?$/.exec(line);
  if (!m) throw new Error(`not a sample: ${where}`);
  const [, name, labelText, valueText] = m as unknown as [string, string, string | undefined, string];
  return { name, labels: labelText ? parseLabels(labelText, where) : {}, value: parseValue(valueText, where) };
}

function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 1;
  const end = text.length - 1;
  while (i < end) {
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`label without "=": ${where}`);
    const name = text.slice(i, eq);
    if (!LABEL.test(name)) throw new Error(`bad label name "${name}": ${where}`);
    if (name in labels) throw new Error(`repeated label ${name}: ${where}`);
    if (text[eq + 1] !== '"') throw new Error(`label value not quoted: ${where}`);
    let value = '';
    let j = eq + 2;
    for (; j < end; j++) {
      const c = text[j]!;
      if (c === '"') break;
      if (c === '\\') {
        const next = text[++j];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`bad escape \\${next} in label value: ${where}`);
      } else if (c === '\n') throw new Error(`raw newline in label value: ${where}`);
      else value += c;
    }
    if (text[j] !== '"') throw new Error(`unterminated label value: ${where}`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (i !== end) throw new Error(`expected "," or "}" after label ${name}: ${where}`);
  }
  return labels;
}

function parseValue(text: string, where: string): number {
  if (text === 'NaN') return Number.NaN;
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`bad value "${text}": ${where}`);
  return Number(text);
}

function unescapeHelp(text: string, where: string): string {
  return text.replace(/\\(.?)/g, (_, c: string) => {
    if (c === 'n') return '\n';
    if (c === '\\') return '\\';
    throw new Error(`bad escape in HELP: ${where}`);
  });
}

/** The one sample of `name` whose labels include `labels`. */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}
