// Writes the URL parameters of every embeddable figure into docs/teaching.md, between its
// <!-- params --> markers, from the registry (src/lib/embed/registry.ts). Run after adding a
// widget: npx tsx scripts/embed-docs.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeParam, widgets } from '../src/lib/embed/registry';

// what a parameter without a default value means
const nullDefault: Record<string, string> = { token: '(the last token)', key: '(the query token)', force: '(the model’s second choice)' };

const cell = (s: string) => s.replace(/\|/g, '\\|');

export function parameterTables(): string {
  const out: string[] = [];
  for (const w of widgets) {
    out.push(`### \`${w.name}\`: ${w.title}`, '', `\`/embed/${w.name}\`, from the chapter \`/${w.chapter}\`. A frame of ${w.size.width} × ${w.size.height} fits it.`, '');
    if (w.params.length === 0) {
      out.push('No parameters: the figure has no state to set.', '');
      continue;
    }
    out.push('| parameter | values | default | what it sets |', '| --- | --- | --- | --- |');
    for (const p of w.params) {
      const def = p.type === 'words' ? p.default.join(',') : p.default === null ? nullDefault[p.name] ?? '(off)' : String(p.default);
      out.push(`| \`${p.name}\` | ${cell(describeParam(p))} | ${cell(def)} | ${cell(p.doc)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = 'docs/teaching.md';
  const doc = readFileSync(file, 'utf8');
  const start = '<!-- params: written by scripts/embed-docs.ts -->';
  const end = '<!-- /params -->';
  const a = doc.indexOf(start), b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${file} has no ${start} … ${end} block`);
  writeFileSync(file, `${doc.slice(0, a + start.length)}\n\n${parameterTables()}\n${doc.slice(b)}`);
  console.log(`${file}: parameters of ${widgets.length} figures written`);
}
