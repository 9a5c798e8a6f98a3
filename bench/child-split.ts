import { createReadStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * Baselines: read the same files and split them into lines in Node, nothing else. `readline` is
 * Node's own line splitter (the usual way to read a file by lines); `indexof` is the fastest split
 * we know (the one analyze itself uses), printed too so the ratio can be read against both.
 */
async function main(): Promise<void> {
  const dir = process.argv[2];
  if (process.argv[3] === 'readline') return readlineSplit(dir);
  const start = process.hrtime.bigint();
  let lines = 0;
  let chars = 0;
  for (const name of readdirSync(dir).sort()) {
    const decoder = new TextDecoder();
    let carry = '';
    for await (const chunk of createReadStream(join(dir, name), { highWaterMark: 1 << 20 })) {
      const text = carry + decoder.decode(chunk as Uint8Array, { stream: true });
      let start = 0;
      let nl = text.indexOf('\n');
      while (nl >= 0) {
        const line = text.slice(start, nl);
        chars += line.length;
        lines++;
        start = nl + 1;
        nl = text.indexOf('\n', start);
      }
      carry = text.slice(start);
    }
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  process.stdout.write(JSON.stringify({ ms, lines, chars, maxRssKB: process.resourceUsage().maxRSS }) + '\n');
}
async function readlineSplit(dir: string): Promise<void> {
  const start = process.hrtime.bigint();
  let lines = 0;
  let chars = 0;
  for (const name of readdirSync(dir).sort()) {
    const rl = createInterface({ input: createReadStream(join(dir, name), { highWaterMark: 1 << 20 }), crlfDelay: Infinity });
    for await (const line of rl) {
      chars += line.length;
      lines++;
    }
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  process.stdout.write(JSON.stringify({ ms, lines, chars, maxRssKB: process.resourceUsage().maxRSS }) + '\n');
}

void main();
