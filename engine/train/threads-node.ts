// Training threads under node:worker_threads, for ParallelTrainer (engine/train/parallel.ts):
// the only Node-specific part of parallel training. Each thread runs shard-worker.ts.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ShardReply } from './shard';
import type { SpawnThread } from './parallel';

export const spawnNodeThread: SpawnThread = () => {
  // The entry is TypeScript and a thread does not inherit the loader the main thread runs under
  // (tsx, vitest), so a two-line bootstrap registers tsx's loader in the thread, then imports it.
  const entry = new URL('./shard-worker.ts', import.meta.url).href;
  // (the ESM build of tsx's API: require.resolve finds its CommonJS twin)
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const worker = new Worker(
    `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`,
    { eval: true }
  );
  return {
    postMessage: (msg) => worker.postMessage(msg),
    onMessage: (handler) => worker.on('message', (msg: ShardReply) => handler(msg)),
    onError: (handler) => {
      worker.on('error', handler);
      worker.on('exit', (code) => { if (code !== 0) handler(new Error(`a training thread exited with code ${code}`)); });
    },
    terminate: () => void worker.terminate()
  };
};
