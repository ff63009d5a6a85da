import { error } from '@sveltejs/kit';
import { chapters, findChapter } from '$lib/chapters';
import type { EntryGenerator, PageLoad } from './$types';

export const entries: EntryGenerator = () => chapters.map((c) => ({ chapter: c.slug }));

export const load: PageLoad = async ({ params }) => {
  const chapter = findChapter(params.chapter);
  if (!chapter) error(404, `There is no chapter called “${params.chapter}”.`);
  const index = chapters.indexOf(chapter);
  return {
    chapter,
    body: await chapter.load(),
    previous: chapters[index - 1] ?? null,
    next: chapters[index + 1] ?? null
  };
};
