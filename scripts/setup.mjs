// npm run setup: everything a fresh clone needs, then the site opens in the browser.
import { spawnSync } from 'node:child_process';
import { ensureModel } from './model.mjs';

function run(title, args) {
  console.log(`\n▶ ${title}`);
  const r = spawnSync('npm', args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status || 1);
}

run('installing dependencies', ['install']);
ensureModel(); // committed; says how to rebuild it if it is missing
run('starting the site (Ctrl+C stops it)', ['run', 'start']);
