// The site's colours are light-dark() pairs (app.css): a custom property holds both, and only a
// colour property resolves it, for the element's scheme. Code that needs the colour itself (a
// canvas, an exported picture) reads it through a probe element inside `el`, as rgb().
function probe(el: Element, color: string): string {
  const span = document.createElement('span');
  span.style.cssText = `position:absolute;visibility:hidden;color:${color}`;
  el.appendChild(span);
  const resolved = getComputedStyle(span).color;
  span.remove();
  return resolved;
}

export function resolvedColor(el: Element, name: string): string {
  return probe(el, `var(${name})`);
}

// The scheme `el` is drawn in: the viewer's setting, or the one an embed fixed.
export function usedScheme(el: Element): 'light' | 'dark' {
  return probe(el, 'light-dark(#000, #fff)') === 'rgb(255, 255, 255)' ? 'dark' : 'light';
}
