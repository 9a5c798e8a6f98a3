import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { ByteSink } from '../app/export-pcapng.js';

/**
 * fileSink writes bytes to a file as they come, honouring back-pressure, and reports a write
 * error (full disk, missing directory) on the next write or on close instead of losing it.
 */
export function fileSink(path: string): ByteSink {
  const stream = createWriteStream(path);
  let failure: Error | undefined;
  stream.on('error', (err) => {
    failure = err;
  });
  const check = () => {
    if (failure) throw new Error(`${path} cannot be written: ${failure.message}`);
  };
  return {
    async write(chunk) {
      check();
      if (!stream.write(chunk)) await Promise.race([once(stream, 'drain'), once(stream, 'error')]);
      check();
    },
    async close() {
      check();
      stream.end();
      await Promise.race([once(stream, 'finish'), once(stream, 'error')]);
      check();
    },
  };
}
