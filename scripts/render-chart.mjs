#!/usr/bin/env node
// Renders deploy/chart/lifeboat without helm (Debian has no helm package, and CI reaches no other registry), for the
// committed manifests and for the tests that lint them. It implements the small part of Go's text/template and
// Helm's functions the chart uses, and refuses anything else, so a template that uses more fails here loudly
// instead of rendering differently from `helm template`:
//   actions {{ }} with {{- -}} trimming, comments, if/else, with/else, define, include, $ and . fields,
//   string and number literals, (sub pipelines), | pipes; functions: default quote nindent indent toYaml sha256sum
//   printf(%s %d %v) and or not eq ne required trim index hasPrefix dir.
//
//   node scripts/render-chart.mjs                  rewrite deploy/manifests/ from the chart's defaults
//   node scripts/render-chart.mjs --set-file F     print the chart rendered with values F merged over the defaults
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const root = resolve(import.meta.dirname, '..');
export const CHART_DIR = join(root, 'deploy/chart/lifeboat');
export const MANIFESTS_DIR = join(root, 'deploy/manifests');
/** deploy/manifests/ is the chart with these values over its defaults: `kubectl apply -f` creates the namespace too. */
export const MANIFEST_VALUES = { namespace: { create: true } };

/**
 * The chart rendered like `helm template NAME CHART --namespace NS -f values`: one entry per template file that
 * produced anything, in file name order (helm sorts by kind; the manifests' file names keep apply order instead).
 */
export function renderChart({
  chartDir = CHART_DIR,
  values = {},
  releaseName = 'lifeboat',
  namespace = 'lifeboat',
} = {}) {
  const chart = YAML.parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8'));
  const defaults = YAML.parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) ?? {};
  const top = {
    Values: merge(defaults, values),
    Release: { Name: releaseName, Namespace: namespace, Service: 'Helm' },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
  };
  const dir = join(chartDir, 'templates');
  const files = readdirSync(dir)
    .filter((f) => /\.(yaml|tpl)$/.test(f))
    .sort();
  const defines = new Map();
  const parsed = files.map((file) => ({ file, nodes: parse(readFileSync(join(dir, file), 'utf8'), file, defines) }));
  const out = [];
  for (const { file, nodes } of parsed) {
    if (file.startsWith('_')) continue;
    const text = exec(nodes, top, top, defines);
    // Helm leaves a whitespace-only line where an included block is empty; such lines are dropped here.
    const tidy = text
      .replace(/^[ \t]+$\n/gm, '')
      .replace(/^\n+/, '')
      .trimEnd();
    if (tidy !== '') out.push({ file, text: `${tidy}\n` });
  }
  return out;
}

/** All rendered documents, parsed (empty documents dropped). */
export function renderedObjects(options) {
  return renderChart(options).flatMap(({ text }) =>
    YAML.parseAllDocuments(text)
      .map((d) => d.toJS())
      .filter((o) => o != null),
  );
}

function merge(base, over) {
  if (!isMap(base) || !isMap(over)) return over === undefined ? base : over;
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = merge(base[k], v);
  return out;
}
const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// ---- parsing ---------------------------------------------------------------------------------------------------

function parse(src, file, defines) {
  const tokens = [];
  let pos = 0;
  while (pos < src.length) {
    const open = src.indexOf('{{', pos);
    if (open < 0) {
      tokens.push({ text: src.slice(pos) });
      break;
    }
    const close = src.indexOf('}}', open);
    if (close < 0) throw new Error(`${file}: unclosed {{`);
    tokens.push({ text: src.slice(pos, open) });
    let body = src.slice(open + 2, close);
    const trimLeft = body.startsWith('- ') || body === '-';
    const trimRight = body.endsWith(' -');
    if (trimLeft) body = body.slice(1);
    if (trimRight) body = body.slice(0, -1);
    tokens.push({ action: body.trim(), trimLeft, trimRight });
    pos = close + 2;
  }
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.action === undefined) continue;
    if (t.trimLeft && tokens[i - 1]?.text !== undefined) tokens[i - 1].text = tokens[i - 1].text.replace(/\s+$/, '');
    if (t.trimRight && tokens[i + 1]?.text !== undefined) tokens[i + 1].text = tokens[i + 1].text.replace(/^\s+/, '');
  }
  let i = 0;
  const block = (ends) => {
    const nodes = [];
    while (i < tokens.length) {
      const t = tokens[i++];
      if (t.text !== undefined) {
        if (t.text !== '') nodes.push({ text: t.text });
        continue;
      }
      const a = t.action;
      if (a.startsWith('/*')) continue;
      const word = a.split(/\s+/, 1)[0];
      if (ends.includes(word)) return { nodes, end: a };
      if (word === 'if' || word === 'with') {
        const node = { kind: word, pipe: pipeline(a.slice(word.length), file) };
        const body = block(['else', 'end']);
        node.body = body.nodes;
        if (body.end !== 'end' && body.end !== 'else') throw new Error(`${file}: {{ ${body.end} }} is not supported`);
        if (body.end === 'else') node.else = block(['end']).nodes;
        nodes.push(node);
      } else if (word === 'define') {
        const name = JSON.parse(a.slice(6).trim());
        defines.set(name, block(['end']).nodes);
      } else if (['range', 'template', 'block', 'else', 'end'].includes(word)) {
        throw new Error(`${file}: {{ ${a} }} is not supported by scripts/render-chart.mjs`);
      } else {
        nodes.push({ kind: 'print', pipe: pipeline(a, file) });
      }
    }
    if (ends.length > 0) throw new Error(`${file}: missing {{ end }}`);
    return { nodes };
  };
  return block([]).nodes;
}

/** A pipeline: commands separated by |, each a list of operands (fields, literals, function names, sub pipelines). */
function pipeline(src, file) {
  const tokens = src.match(/"(?:[^"\\]|\\.)*"|\(|\)|\||[^\s()|]+/g) ?? [];
  let i = 0;
  const parsePipe = () => {
    const cmds = [[]];
    while (i < tokens.length) {
      const t = tokens[i++];
      if (t === ')') return cmds;
      if (t === '|') cmds.push([]);
      else if (t === '(') cmds.at(-1).push({ pipe: parsePipe() });
      else cmds.at(-1).push(operand(t, file));
    }
    return cmds;
  };
  const cmds = parsePipe();
  if (cmds.some((c) => c.length === 0)) throw new Error(`${file}: empty command in {{ ${src.trim()} }}`);
  return cmds;
}

function operand(t, file) {
  if (t.startsWith('"')) return { value: JSON.parse(t) };
  if (/^-?\d+$/.test(t)) return { value: Number(t) };
  if (t === 'true' || t === 'false') return { value: t === 'true' };
  if (t === '.' || t.startsWith('.') || t === '$' || t.startsWith('$.')) return { field: t };
  if (t in FUNCTIONS) return { fn: t };
  throw new Error(`${file}: "${t}" is not supported by scripts/render-chart.mjs`);
}

// ---- evaluation ------------------------------------------------------------------------------------------------

function exec(nodes, dot, top, defines) {
  let out = '';
  for (const node of nodes) {
    if (node.text !== undefined) out += node.text;
    else if (node.kind === 'print') out += show(evalPipe(node.pipe, dot, top, defines));
    else {
      const value = evalPipe(node.pipe, dot, top, defines);
      if (truthy(value)) out += exec(node.body, node.kind === 'with' ? value : dot, top, defines);
      else if (node.else) out += exec(node.else, dot, top, defines);
    }
  }
  return out;
}

function evalPipe(cmds, dot, top, defines) {
  let piped;
  cmds.forEach((cmd, index) => {
    const [head, ...rest] = cmd;
    const args = rest.map((o) => evalOperand(o, dot, top, defines));
    if (index > 0) args.push(piped);
    if (head.fn !== undefined) piped = FUNCTIONS[head.fn](args, { top, defines });
    else if (args.length > 0) throw new Error(`cannot call a non-function with arguments`);
    else piped = evalOperand(head, dot, top, defines);
  });
  return piped;
}

function evalOperand(o, dot, top, defines) {
  if ('value' in o) return o.value;
  if (o.pipe) return evalPipe(o.pipe, dot, top, defines);
  if (o.field !== undefined) {
    let base = dot;
    let path = o.field;
    if (path.startsWith('$')) {
      base = top;
      path = path.slice(1);
    }
    return path
      .split('.')
      .filter(Boolean)
      .reduce((v, k) => (v == null ? undefined : v[k]), base);
  }
  if (o.fn !== undefined) return FUNCTIONS[o.fn]([], { top, defines });
  throw new Error('bad operand');
}

function truthy(v) {
  if (Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return Object.keys(v).length > 0;
  return Boolean(v);
}

function show(v) {
  if (v == null) return '';
  if (typeof v === 'object') return YAML.stringify(v, { sortMapEntries: true }).trimEnd();
  return String(v);
}

const indent = (n, s) =>
  show(s)
    .split('\n')
    .map((line) => ' '.repeat(n) + line)
    .join('\n');

const FUNCTIONS = {
  default: ([fallback, v]) => (truthy(v) ? v : fallback),
  quote: (args) => args.map((a) => JSON.stringify(show(a))).join(' '),
  indent: ([n, s]) => indent(n, s),
  nindent: ([n, s]) => `\n${indent(n, s)}`,
  toYaml: ([v]) => (v == null ? 'null' : YAML.stringify(v, { sortMapEntries: true }).trimEnd()),
  sha256sum: ([s]) => createHash('sha256').update(show(s)).digest('hex'),
  printf: ([format, ...args]) => format.replace(/%[sdv]/g, () => show(args.shift())),
  and: (args) => args.reduce((a, b) => (truthy(a) ? b : a)),
  or: (args) => args.reduce((a, b) => (truthy(a) ? a : b)),
  not: ([v]) => !truthy(v),
  eq: ([a, b]) => a === b,
  ne: ([a, b]) => a !== b,
  trim: ([s]) => show(s).trim(),
  index: ([collection, key]) => collection?.[key],
  hasPrefix: ([prefix, s]) => show(s).startsWith(prefix),
  dir: ([path]) => posix.dirname(show(path)),
  required: ([message, v]) => {
    if (!truthy(v)) throw new Error(message);
    return v;
  },
  include: ([name, dot], { top, defines }) => {
    const body = defines.get(name);
    if (body === undefined) throw new Error(`include: no template "${name}"`);
    return exec(body, dot, top, defines);
  },
};

// ---- command line ----------------------------------------------------------------------------------------------

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--set-file');
  if (at > 0) {
    const values = YAML.parse(readFileSync(process.argv[at + 1], 'utf8')) ?? {};
    for (const { file, text } of renderChart({ values }))
      process.stdout.write(`---\n# Source: lifeboat/templates/${file}\n${text}`);
  } else {
    for (const f of readdirSync(MANIFESTS_DIR)) if (f.endsWith('.yaml')) rmSync(join(MANIFESTS_DIR, f));
    for (const { file, text } of renderChart({ values: MANIFEST_VALUES })) {
      const header = `# Rendered from deploy/chart/lifeboat/templates/${file} (default values, namespace.create=true) by\n# scripts/render-chart.mjs: edit the chart, then run \`npm run render:manifests\`.\n`;
      writeFileSync(join(MANIFESTS_DIR, basename(file)), header + text);
    }
    console.log(`wrote ${MANIFESTS_DIR}`);
  }
}
