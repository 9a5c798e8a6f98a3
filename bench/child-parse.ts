import { createReadStream, readdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { LineSplitter } from '../src/app/line-splitter.js';
import { detectFormat } from '../src/core/analyze/detect.js';
import { streamParserFor } from '../src/core/analyze/formats.js';

/**
 * The floor under analyze's throughput: the same files split by analyze's own splitter and every
 * line run through its format's parser, with nothing kept and nothing correlated. analyze cannot
 * be faster than this, so this ratio over the readline split bounds analyze's ratio from above.
 */
async function main(): Promise<void> {
  const dir = process.argv[2];
  const start = process.hrtime.bigint();
  let lines = 0;
  let events = 0;
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const file = await open(path, 'r');
    const head = new Uint8Array(64 * 1024);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    await file.close();
    const headText = new TextDecoder().decode(head.subarray(0, bytesRead));
    const format = detectFormat(head.subarray(0, bytesRead), headText.split('\n', 200));
    if (format === 'unknown' || format === 'pcap' || format === 'pcapng') continue;
    const parser = streamParserFor(format);
    let ctx = parser.initial();
    const onLine = (line: string) => {
      lines++;
      const read = parser.parse(line, ctx);
      ctx = read.ctx;
      if (read.result.kind === 'event') events++;
    };
    const splitter = new LineSplitter(1 << 20);
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) splitter.push(chunk as Uint8Array, onLine);
    splitter.end(onLine);
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  process.stdout.write(JSON.stringify({ ms, lines, events, maxRssKB: process.resourceUsage().maxRSS }) + '\n');
}
void main();
