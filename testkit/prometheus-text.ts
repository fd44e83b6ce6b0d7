/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4),
 * for tests: anything a Prometheus server would refuse, or that breaks the
 * rules of a metric family, throws with the line it is on. It checks names,
 * label syntax and escapes, values (as Go's ParseFloat reads them, which is
 * what Prometheus uses: `NaN` and `Inf` in any case), `# HELP` and `# TYPE`
 * before a family's samples, families not interleaved, no series given
 * twice, counters never negative, and histograms whole (cumulative buckets
 * ending at `+Inf`, equal to `_count`, with a `_sum`). A family may have no
 * samples (a labelled counter nothing has counted yet).
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  /** The sample's own name (`x_bucket`, `x_sum` for a histogram `x`). */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES: readonly MetricType[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, MetricFamily>();
  const series = new Set<string>();
  let current: MetricFamily | undefined;
  const lines = text.split('\n').slice(0, -1);
  lines.forEach((line, index) => {
    const fail = (why: string): never => {
      throw new Error(`line ${index + 1}: ${why}: ${JSON.stringify(line)}`);
    };
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!match) return; // a plain comment
      const [, keyword, name, rest] = match as unknown as [string, 'HELP' | 'TYPE', string, string];
      if (!METRIC_NAME.test(name)) fail('bad metric name');
      let family = families.get(name);
      if (family && family !== current) fail(`family ${name} appears twice`);
      if (!family) {
        family = { name, type: 'untyped', help: '', samples: [] };
        families.set(name, family);
        current = family;
      }
      if (family.samples.length > 0) fail(`# ${keyword} after the samples of ${name}`);
      if (keyword === 'TYPE') {
        if (!TYPES.includes(rest as MetricType)) fail('unknown type');
        family.type = rest as MetricType;
      } else {
        family.help = unescapeHelp(rest, fail);
      }
      return;
    }
    const sample = parseSample(line, fail);
    const family = current && belongsTo(sample.name, current) ? current : undefined;
    if (!family) fail(`sample ${sample.name} outside its family (each needs its # TYPE first)`);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (series.has(key)) fail('series given twice');
    series.add(key);
    if (family!.type === 'counter' && !(sample.value >= 0)) fail('a counter is never negative');
    family!.samples.push(sample);
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

/** The value of one series of a family, or undefined. */
export function sampleValue(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}, sampleName = name): number | undefined {
  const wanted = Object.entries(labels);
  return families.get(name)?.samples.find((s) => s.name === sampleName && wanted.every(([k, v]) => s.labels[k] === v))?.value;
}

function belongsTo(sample: string, family: MetricFamily): boolean {
  if (sample === family.name) return family.type !== 'histogram';
  if (family.type === 'histogram') return [`${family.name}_bucket`, `${family.name}_sum`, `${family.name}_count`].includes(sample);
  if (family.type === 'summary') return [`${family.name}_sum`, `${family.name}_count`].includes(sample);
  return false;
}

function parseSample(line: string, fail: (why: string) => never): Sample {
  const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
  if (!name) return fail('bad sample name');
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    rest = rest.slice(1);
    while (!rest.startsWith('}')) {
      const match = /^([^=]+)="((?:[^"\\\n]|\\["\\n])*)"(,?)/.exec(rest);
      if (!match) return fail('bad labels');
      const [all, label, raw, comma] = match as unknown as [string, string, string, string];
      if (!LABEL_NAME.test(label) || label.startsWith('__')) fail(`bad label name ${label}`);
      if (label in labels) fail(`label ${label} given twice`);
      labels[label] = raw.replace(/\\(["\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : c));
      rest = rest.slice(all.length);
      if (!comma && !rest.startsWith('}')) fail('labels must be separated by commas');
    }
    rest = rest.slice(1);
  }
  const match = /^ (\S+)(?: (-?\d+))?$/.exec(rest);
  if (!match) return fail('a sample is NAME{LABELS} VALUE [TIMESTAMP]');
  return { name, labels, value: parseValue(match[1]!, fail) };
}

function parseValue(text: string, fail: (why: string) => never): number {
  const word = text.toLowerCase();
  if (word === '+inf' || word === 'inf') return Infinity;
  if (word === '-inf') return -Infinity;
  if (word === 'nan') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return fail(`bad value ${text}`);
  return Number(text);
}

function unescapeHelp(text: string, fail: (why: string) => never): string {
  if (/\\[^\\n]/.test(text.replace(/\\\\/g, ''))) fail('bad escape in # HELP');
  return text.replace(/\\([\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : '\\'));
}

function checkHistogram(family: MetricFamily): void {
  const groups = new Map<string, { buckets: Array<[number, number]>; sum?: number; count?: number }>();
  for (const sample of family.samples) {
    const { le, ...others } = sample.labels;
    const key = JSON.stringify(Object.entries(others).sort());
    const group = groups.get(key) ?? { buckets: [] };
    groups.set(key, group);
    if (sample.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${family.name}: a bucket without le`);
      group.buckets.push([le === '+Inf' ? Infinity : Number(le), sample.value]);
    } else if (sample.name.endsWith('_sum')) group.sum = sample.value;
    else group.count = sample.value;
  }
  for (const [key, group] of groups) {
    const where = `${family.name}${key}`;
    if (group.sum === undefined || group.count === undefined) throw new Error(`${where}: a histogram needs _sum and _count`);
    const buckets = group.buckets;
    if (buckets.at(-1)?.[0] !== Infinity) throw new Error(`${where}: the last bucket must be le="+Inf"`);
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i]![0] > buckets[i - 1]![0])) throw new Error(`${where}: buckets must be in increasing le order`);
      if (buckets[i]![1] < buckets[i - 1]![1]) throw new Error(`${where}: buckets must be cumulative`);
    }
    if (buckets.at(-1)![1] !== group.count) throw new Error(`${where}: the +Inf bucket must equal _count`);
  }
}
