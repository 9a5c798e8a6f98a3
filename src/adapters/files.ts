import { closeSync, constants, createReadStream, openSync, readSync } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { InputCatalog, InputProblem, InputSource } from '../app/ports.js';

/** fileSource reads a file lazily: nothing is opened until the use case asks. */
export function fileSource(path: string): InputSource {
  return {
    name: path,
    async head(max: number): Promise<Uint8Array> {
      const fh = await open(path, 'r');
      try {
        const buf = new Uint8Array(max);
        const { bytesRead } = await fh.read(buf, 0, max, 0);
        return buf.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    },
    chunks(): AsyncIterable<Uint8Array> {
      return createReadStream(path, { highWaterMark: 1 << 20 });
    },
  };
}

/** A stream read once: what a pipe, a FIFO or stdin gives, which an interrupt can end. */
export type OnceStream = AsyncIterable<Uint8Array> & { destroy?: () => void };

/**
 * streamSource reads a stream that can be read only once (stdin, a FIFO, a `<(...)` pipe): head()
 * keeps what it read, and chunks() gives that first, then the rest as it arrives. When `signal`
 * fires the stream is destroyed, so a pipe that sends nothing cannot hold an interrupted analyze.
 */
export function streamSource(name: string, openStream: () => Promise<OnceStream>, signal?: AbortSignal): InputSource {
  let stream: OnceStream | undefined;
  let iterator: AsyncIterator<Uint8Array> | undefined;
  const kept: Uint8Array[] = [];
  let keptBytes = 0;
  let ended = false;
  let handedOn = false;
  const next = async (): Promise<Uint8Array | undefined> => {
    if (!iterator) {
      stream = await openStream();
      if (signal?.aborted) stream.destroy?.();
      else signal?.addEventListener('abort', () => stream?.destroy?.(), { once: true });
      iterator = stream[Symbol.asyncIterator]();
    }
    let r: IteratorResult<Uint8Array>;
    try {
      r = await iterator.next();
    } catch (err) {
      // Destroyed by the interrupt: the stream ends where it was.
      if (!signal?.aborted) throw err;
      r = { done: true, value: undefined };
    }
    if (r.done) ended = true;
    return r.done ? undefined : r.value;
  };
  return {
    name,
    async head(max: number): Promise<Uint8Array> {
      while (keptBytes < max && !ended && !handedOn) {
        const chunk = await next();
        if (chunk) {
          kept.push(chunk);
          keptBytes += chunk.length;
        }
      }
      const all = Buffer.concat(kept);
      return all.subarray(0, Math.min(max, all.length));
    },
    chunks(): AsyncIterable<Uint8Array> {
      return {
        [Symbol.asyncIterator]: async function* () {
          if (handedOn) throw new Error(`${name} is a pipe and was read already: it can be read only once`);
          handedOn = true;
          // What head() kept, as one chunk: an interrupted analyze still reads all of it.
          if (kept.length) yield Buffer.concat(kept.splice(0));
          try {
            for (let chunk = ended ? undefined : await next(); chunk; chunk = await next()) yield chunk;
          } finally {
            stream?.destroy?.();
          }
        },
      };
    },
  };
}

/** How long a FIFO may go without a writer before it counts as empty (a writer started just after analyze still counts). */
const FIFO_WRITER_WAIT_MS = 2000;

/**
 * openFifo opens a named pipe without blocking (open(2) of a FIFO waits for a writer, in a thread
 * nothing can interrupt), waits a little for a writer, and streams what the writer sends. With no
 * writer at all, the FIFO reads as empty instead of hanging analyze forever.
 */
async function openFifo(path: string): Promise<OnceStream> {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const first = Buffer.alloc(64 * 1024);
  const deadline = Date.now() + FIFO_WRITER_WAIT_MS;
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, first, 0, first.length, null);
    } catch (err) {
      // EAGAIN: a writer holds the FIFO open and has sent nothing yet: stream from here.
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return new Socket({ fd, readable: true, writable: false });
      closeSync(fd);
      throw err;
    }
    if (n > 0) {
      const socket = new Socket({ fd, readable: true, writable: false });
      socket.unshift(first.subarray(0, n));
      return socket;
    }
    // 0: no writer (yet, or any more).
    if (Date.now() >= deadline) {
      closeSync(fd);
      return Readable.from([]);
    }
    await sleep(50);
  }
}

/** The standard input as an input named `-`, when it is not a terminal. */
export interface StdinInput {
  isTTY?: boolean;
  stream: OnceStream;
}

/** The page `trace --save DIR` writes beside the raw outputs: a report, not an input, so `analyze DIR` passes over it. */
export const SAVED_HTML_REPORT = 'report.html';

/** fileCatalog expands paths on the local file system; hidden files and the saved report.html in directories are skipped. */
export const fileCatalog: InputCatalog = inputCatalog();

/**
 * inputCatalog: files and directories, named pipes (FIFOs, `<(...)`) read streaming, and `-` for
 * the standard input (`kubectl exec ... tcpdump -l | kubectl datapath analyze -`).
 */
export function inputCatalog(stdin?: StdinInput, signal?: AbortSignal): InputCatalog {
  return {
    open: (paths) => openPaths(paths, stdin, signal),
  };
}

async function openPaths(paths: string[], stdin: StdinInput | undefined, signal: AbortSignal | undefined): Promise<{ sources: InputSource[]; problems: InputProblem[] }> {
  const sources: InputSource[] = [];
  const problems: InputProblem[] = [];
  let stdinTaken = false;
  for (const p of paths) {
    if (p === '-' && stdin) {
      if (stdinTaken) continue;
      stdinTaken = true;
      if (stdin.isTTY) problems.push({ name: p, message: 'the standard input is a terminal: pipe a tool\'s output in (e.g. kubectl exec POD -- tcpdump -l -n | kubectl datapath analyze -)' });
      else sources.push(streamSource(p, async () => stdin.stream, signal));
      continue;
    }
    let st;
    try {
      st = await stat(p);
    } catch (err) {
      problems.push({ name: p, message: describeFsError(err, p) });
      continue;
    }
    if (st.isDirectory()) {
      let names: string[];
      try {
        names = (await readdir(p)).filter((n) => !n.startsWith('.') && n !== SAVED_HTML_REPORT).sort();
      } catch (err) {
        problems.push({ name: p, message: describeFsError(err, p) });
        continue;
      }
      let any = false;
      for (const n of names) {
        const full = join(p, n);
        const s = await stat(full).catch(() => undefined);
        if (s?.isFile()) {
          sources.push(fileSource(full));
          any = true;
        }
      }
      if (!any) problems.push({ name: p, message: `${p} is a directory with no files in it: give files or a --save directory` });
    } else if (st.isFIFO()) {
      sources.push(streamSource(p, () => openFifo(p), signal));
    } else {
      sources.push(fileSource(p));
    }
  }
  return { sources, problems };
}

function describeFsError(err: unknown, path: string): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return `${path} does not exist: check the path`;
  if (code === 'ELOOP') return `${path} is a loop of symbolic links: give the file they should lead to`;
  if (code === 'EACCES' || code === 'EPERM') return `${path} cannot be read (permission denied): check its permissions or run as its owner`;
  return `${path} cannot be read: ${(err as Error)?.message ?? String(err)}`;
}
