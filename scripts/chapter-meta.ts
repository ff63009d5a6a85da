// A Vite plugin (vite.config.ts): `virtual:chapter-meta` is every chapter's front matter (title, summary), read from
// content/*.md at build time. The home page and the chapter list need only these two strings; taking
// them from the chapters' own modules would bring every chapter's figures into every page's first
// load (a module cannot be half imported).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plugin } from 'vite';

const id = 'virtual:chapter-meta';

// The front matter's `key: value` lines; a value may be a double-quoted JSON string or a
// single-quoted YAML one. Anything else is an error here rather than a chapter with a wrong title.
export function frontMatter(text: string, file: string): Record<string, string> {
  const block = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text);
  if (!block) throw new Error(`${file}: no front matter (--- title: ... summary: ... ---)`);
  const out: Record<string, string> = {};
  for (const line of block[1].split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const m = /^([A-Za-z_][\w-]*):\s*(.*)$/.exec(line);
    if (!m) throw new Error(`${file}: front matter line "${line}" is not "key: value"`);
    let value = m[2].trim();
    if (value.startsWith('"')) value = JSON.parse(value);
    else if (value.startsWith("'")) value = value.slice(1, -1).replace(/''/g, "'");
    out[m[1]] = value;
  }
  return out;
}

export function chapterMeta(dir = 'content'): Plugin {
  return {
    name: 'chapter-meta',
    resolveId: (source: string) => (source === id ? '\0' + id : undefined),
    load(resolved: string) {
      if (resolved !== '\0' + id) return undefined;
      const meta: Record<string, Record<string, string>> = {};
      for (const f of readdirSync(dir).filter((f) => f.endsWith('.md')).sort()) {
        this.addWatchFile(join(dir, f));
        meta[`/${dir}/${f}`] = frontMatter(readFileSync(join(dir, f), 'utf8'), f);
      }
      return `export default ${JSON.stringify(meta)};`;
    }
  };
}
