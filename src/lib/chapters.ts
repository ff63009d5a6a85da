// The chapter list comes from the files in content/: adding `NN-some-name.md` with a title and a
// summary in its front matter adds a chapter at /some-name, in the order of NN.
import type { Component } from 'svelte';
import frontMatter from 'virtual:chapter-meta';

export interface ChapterMeta {
  title: string;
  summary: string;
}

export interface Chapter extends ChapterMeta {
  number: number; // from the file name's numeric prefix
  slug: string; // the file name without the prefix and extension: the URL of the chapter
  load: () => Promise<Component>;
}

// Front matter read at build time (scripts/chapter-meta.ts), the chapter bodies lazily (one per
// route): importing `metadata` from the chapters' modules would load every chapter's figures.
const metadata: Record<string, Partial<ChapterMeta>> = frontMatter;
const bodies = import.meta.glob<Component>('/content/*.md', { import: 'default' });

const fileName = /^\/content\/(\d+)-([a-z0-9-]+)\.md$/;

export const chapters: Chapter[] = Object.keys(metadata)
  .map((path) => {
    const match = fileName.exec(path);
    if (!match) {
      throw new Error(`${path}: chapter files are named NN-lowercase-name.md`);
    }
    const meta = metadata[path];
    if (!meta?.title || !meta?.summary) {
      throw new Error(`${path}: front matter needs a title and a summary`);
    }
    return {
      title: meta.title,
      summary: meta.summary,
      number: Number(match[1]),
      slug: match[2],
      load: bodies[path]
    };
  })
  .sort((a, b) => a.number - b.number);

export function findChapter(slug: string): Chapter | undefined {
  return chapters.find((c) => c.slug === slug);
}
