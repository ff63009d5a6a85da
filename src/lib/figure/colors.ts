// The site's colours are light-dark() pairs (app.css): a custom property holds both, and only a
// colour property resolves it, for the element's scheme. Code that needs the colour itself (a
// canvas, an exported picture) reads it through a probe element inside `el`, as rgb().
export function resolvedColor(el: Element, name: string): string {
  const probe = document.createElement('span');
  probe.style.cssText = `position:absolute;visibility:hidden;color:var(${name})`;
  el.appendChild(probe);
  const color = getComputedStyle(probe).color;
  probe.remove();
  return color;
}

// The scheme `el` is drawn in: the viewer's setting, or the one an embed fixed.
export function usedScheme(el: Element): 'light' | 'dark' {
  const probe = document.createElement('span');
  probe.style.cssText = 'position:absolute;visibility:hidden;color:light-dark(#000, #fff)';
  el.appendChild(probe);
  const dark = getComputedStyle(probe).color === 'rgb(255, 255, 255)';
  probe.remove();
  return dark ? 'dark' : 'light';
}
