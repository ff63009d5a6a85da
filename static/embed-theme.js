// An embed page's ?theme=light|dark, applied before the page is first drawn (the page's own code
// runs later, and would show the viewer's scheme for a moment first). Anything else: the viewer's.
(function () {
  var theme = new URLSearchParams(location.search).get('theme');
  if (theme === 'light' || theme === 'dark') document.documentElement.setAttribute('data-theme', theme);
})();
