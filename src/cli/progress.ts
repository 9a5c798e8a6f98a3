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
 * text in warnings (stderr of probes) is made harmless for the terminal first.
 */
export async function createProgress(io: IOStreams, output: string): Promise<CliProgress> {
  const warnLine = (line: string) => `warning: ${sanitizeTerminalText(line)}\n`;
  if (io.err.isTTY !== true || output === 'json' || output === 'yaml') {
    return { step: () => undefined, warn: (line) => void io.err.write(warnLine(line)), stop: () => undefined };
  }
  const { default: ora } = await import('ora');
  const spinner = ora({ stream: io.err as NodeJS.WriteStream, text: 'starting', discardStdin: false }).start() as unknown as Spinner;
  return {
    step: (text) => {
      spinner.text = sanitizeTerminalText(text);
    },
    warn: (line) => {
      spinner.clear();
      io.err.write(warnLine(line));
      spinner.render();
    },
    stop: () => void spinner.stop(),
  };
}
