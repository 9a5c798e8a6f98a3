import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { basename, dirname, join } from 'node:path';
import type { ByteSink } from '../app/export-pcapng.js';

/**
 * fileSink writes bytes to a temporary file beside `path` as they come, honouring back-pressure,
 * and renames it to `path` only once everything is written: a failed or interrupted export never
 * leaves a half file, nor destroys the one that was there. A write error (full disk, missing
 * directory) is reported on the next write or on close instead of being lost; discard() removes
 * the temporary file after a failure. `direct` writes straight to `path`, for what is not a file
 * to replace: a FIFO or a device (`--pcapng >(wireshark -k -i -)`).
 */
export function fileSink(path: string, options: { direct?: boolean } = {}): ByteSink & { discard(): Promise<void> } {
  const direct = options.direct === true;
  const temp = direct ? path : join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  const stream = createWriteStream(temp, { flags: direct ? 'w' : 'wx' });
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
      if (!direct) await rename(temp, path);
    },
    async discard() {
      stream.destroy();
      if (!direct) await rm(temp, { force: true });
    },
  };
}
