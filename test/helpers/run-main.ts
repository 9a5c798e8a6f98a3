import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';

/** A writable that keeps what was written, as text: the CLI's stdout or stderr in a test. */
export class TextSink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

/** Runs the CLI in-process with this environment (nothing of the test's own), as a user would. */
export async function runMain(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  const out = new TextSink();
  const err = new TextSink();
  const code = await main(args, { out, err, env });
  return { code, out: out.text, err: err.text };
}
