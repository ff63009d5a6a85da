// The engine's home in the browser: a Web Worker, so a forward pass never blocks scrolling or
// typing. The page talks to it through comlink (see client.svelte.ts).
import { expose, transferHandlers, type TransferHandler } from 'comlink';
import { createEngineApi } from './api';

// comlink sends a thrown Error as its message, name and stack only. The page also needs an
// EngineError's code (to tell an empty prompt from a broken file), so send that too; comlink's
// receiving side copies every field it is given onto the Error it rethrows.
const thrown = transferHandlers.get('throw') as TransferHandler<{ value: unknown }, unknown>;
transferHandlers.set('throw', {
  canHandle: thrown.canHandle,
  serialize({ value }) {
    if (value instanceof Error) {
      const { message, name, stack } = value;
      const code = (value as Error & { code?: unknown }).code;
      return [{ isError: true, value: { message, name, stack, code } }, []];
    }
    return thrown.serialize({ value });
  },
  deserialize: thrown.deserialize
});

expose(createEngineApi());
