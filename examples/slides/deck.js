// Starts reveal.js on the deck. The site serves reveal.js from its npm package (see
// src/routes/examples/slides/[file]/+server.ts); if it is missing, the slides stay one long page
// and say so.
/* global Reveal */
// reveal.js 5 puts its API on window as a function with methods (older versions: an object)
if (typeof Reveal === 'function' || typeof Reveal === 'object') {
  Reveal.initialize({ hash: true, width: 1100, height: 720, margin: 0.02, embedded: false });
} else {
  const note = document.createElement('p');
  note.className = 'no-reveal';
  note.textContent = 'reveal.js did not load (is the reveal.js package installed?): the slides are shown one below the other.';
  document.body.prepend(note);
}
