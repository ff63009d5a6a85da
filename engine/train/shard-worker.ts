// The entry file of a training thread under node:worker_threads: the thin plumbing around
// serveShard (engine/train/shard.ts). A Web Worker's entry would do the same with `self`.
import { parentPort } from 'node:worker_threads';
import { EngineError } from '../errors';
import { serveShard, type ShardRequest } from './shard';

if (!parentPort) throw new EngineError('bad_state', 'shard-worker.ts runs as a worker thread, not on its own.');
const port = parentPort;
serveShard({
  postMessage: (msg) => port.postMessage(msg),
  onMessage: (handler) => port.on('message', (msg: ShardRequest) => handler(msg))
});
