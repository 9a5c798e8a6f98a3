import type { TraceProgress } from '../app/trace.js';
import { sanitizeTerminalText } from '../render/sanitize.js';
import type { IOStreams } from './io.js';

/** CliProgress: trace progress for people, on stderr; `stop` before the report is printed. */
export interface CliProgress extends TraceProgress {
  stop(): void;
}

interface Spinner {
  text: string;
  start(): Spinner;
  stop(): Spinner;
  clear(): Spinner;
  render(): Spinner;
}

/**
 * createProgress: a spinner (ora) on stderr only when stderr is a terminal and stdout is not
 * machine-readable; otherwise steps are silent and warnings are plain `warning:` lines. Remote
 * text in warnings (stderr of probes) is made harmless for the terminal first. With `debug`,
 * every step and milestone is also a `debug: +S.SSS s ...` line, timed from here, so a slow
 * trace shows where its time went.
 */
export async function createProgress(io: IOStreams, output: string, debug = false): Promise<CliProgress> {
  const warnLine = (line: string) => `warning: ${sanitizeTerminalText(line)}\n`;
  const started = performance.now();
  const debugLine = (text: string) => `debug: +${((performance.now() - started) / 1000).toFixed(3)} s ${sanitizeTerminalText(text)}\n`;
  if (io.err.isTTY !== true || output === 'json' || output === 'yaml') {
    const print = (text: string) => void io.err.write(debugLine(text));
    return { step: debug ? print : () => undefined, debug: debug ? print : undefined, warn: (line) => void io.err.write(warnLine(line)), stop: () => undefined };
  }
  const { default: ora } = await import('ora');
  const spinner = ora({ stream: io.err as NodeJS.WriteStream, text: 'starting', discardStdin: false }).start() as unknown as Spinner;
  const above = (line: string) => {
    spinner.clear();
    io.err.write(line);
    spinner.render();
  };
  return {
    step: (text) => {
      spinner.text = sanitizeTerminalText(text);
      if (debug) above(debugLine(text));
    },
    warn: (line) => above(warnLine(line)),
    debug: debug ? (text) => above(debugLine(text)) : undefined,
    stop: () => void spinner.stop(),
  };
}
