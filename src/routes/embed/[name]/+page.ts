import { error } from '@sveltejs/kit';
import { findWidget, widgets } from '$lib/embed/registry';
import type { EntryGenerator, PageLoad } from './$types';

// One prerendered page per registered widget; the query string (the state) is read in the browser.
export const entries: EntryGenerator = () => widgets.map((w) => ({ name: w.name }));

export const load: PageLoad = ({ params }) => {
  const entry = findWidget(params.name);
  if (!entry) error(404, `There is no figure called “${params.name}”.`);
  return { name: entry.name, title: entry.title, chapter: entry.chapter };
};
