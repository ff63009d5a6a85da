// The state a Share link gives one figure of a chapter: `/<chapter>?figure=<name>&layer=2…#fig-<name>`.
// Widgets read it once, as they start, in place of their props; on the server (prerendering) and
// on any page the link does not point at this figure, it is empty.
import { browser } from '$app/environment';
import { findWidget, readQuery, validate } from './registry';

export function linked(name: string): Record<string, unknown> {
  if (!browser || location.pathname.includes('/embed/')) return {};
  const q = readQuery(location.search);
  if (q.get('figure') !== name) return {};
  const entry = findWidget(name);
  return entry ? validate(entry, q, null).props : {};
}
