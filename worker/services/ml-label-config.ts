/** The control tag of a Label Studio labelling config that an ML backend's predictions fill in. */
export interface LabelControl {
  fromName: string;
  toName: string;
  labels: string[];
}

const CONTROL_TAG: Record<string, string> = {
  'text-classification': 'Choices',
  'span-labeling': 'Labels',
  'object-detection': 'RectangleLabels',
};
const CHILD_TAG: Record<string, string> = { Choices: 'Choice', Labels: 'Label', RectangleLabels: 'Label' };

const attribute = (tag: string, name: string): string | undefined =>
  new RegExp(`\\s${name}\\s*=\\s*"([^"]*)"`).exec(tag)?.[1] ?? new RegExp(`\\s${name}\\s*=\\s*'([^']*)'`).exec(tag)?.[1];

const unescape = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/**
 * Finds the first control tag for a task kind in a Label Studio `label_config` (e.g. `<Choices name="sentiment"
 * toName="text">` with its `<Choice value="...">` children). Label configs are a small, flat XML dialect; only the
 * attributes of these two tags are read (see docs/adr/0010-label-config-reader.md).
 */
export function findControl(labelConfig: string | undefined, task: string): LabelControl | undefined {
  const tag = CONTROL_TAG[task];
  if (!labelConfig || !tag) return undefined;
  const open = new RegExp(`<${tag}\\b([^>]*?)(/?)>`).exec(labelConfig);
  if (!open) return undefined;
  const attrs = open[1] ?? '';
  const fromName = attribute(attrs, 'name');
  const toName = attribute(attrs, 'toName');
  if (!fromName || !toName) return undefined;
  const close = labelConfig.indexOf(`</${tag}>`, open.index);
  const body = open[2] === '/' || close < 0 ? '' : labelConfig.slice(open.index + open[0].length, close);
  const child = CHILD_TAG[tag] ?? '';
  const labels = [...body.matchAll(new RegExp(`<${child}\\b([^>]*)>`, 'g'))].flatMap((m) => {
    const value = attribute(m[1] ?? '', 'value');
    return value === undefined ? [] : [unescape(value)];
  });
  return { fromName: unescape(fromName), toName: unescape(toName), labels };
}
