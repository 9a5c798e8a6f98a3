#!/usr/bin/env node
import { CommanderError } from 'commander';
import { DatapathError, EXIT } from '../core/errors.js';
import { sanitizeTerminalText } from '../render/sanitize.js';
import type { IOStreams } from './io.js';
import { buildProgram, type CommandOutcome } from './program.js';

/** main: the only place that decides the exit code. */
export async function main(argv: string[], io: IOStreams): Promise<number> {
  const outcome: CommandOutcome = { exitCode: EXIT.ok };
  const abort = new AbortController();
  // Kept for the whole run: a second Ctrl-C while a trace removes its probes must not kill the
  // process half-way through the cleanup (the pod deadline would be the only backstop left).
  const onSignal = () => {
    if (abort.signal.aborted) {
      io.err.write('still removing what the trace started on the cluster; it ends by itself within the --timeout\n');
      return;
    }
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const debug = argv.includes('--debug');
  try {
    const program = buildProgram(io, outcome, abort.signal);
    // Shell completion (kubectl_complete-datapath): answered before commander parses anything.
    if (argv[0] === '__complete' || argv[0] === '__completeNoDesc') {
      const { runComplete } = await import('./commands/complete.js');
      return await runComplete(program, argv.slice(1), argv[0] === '__complete', io);
    }
    await program.parseAsync(argv, { from: 'user' });
    return outcome.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    if (err instanceof DatapathError) {
      // A message may quote a flag value, a file name or a remote answer: never raw on a terminal.
      io.err.write(`error: ${sanitizeTerminalText(err.message)}\n`);
      if (debug && err.stack) io.err.write(`${err.stack}\n`);
      return err.exitCode;
    }
    const e = err as Error;
    io.err.write(`error: ${sanitizeTerminalText(e?.message ?? String(err))} (this is a bug in kubectl-datapath: please report it with --debug output)\n`);
    if (debug && e?.stack) io.err.write(`${e.stack}\n`);
    return EXIT.error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** How long the process may take to end on its own once main has returned. */
const EXIT_GRACE_MS = 2000;

const isEntry = process.argv[1] && /kubectl[-_]datapath|main\.(js|ts|cjs)$/.test(process.argv[1]);
if (isEntry) {
  // The reader of stdout went away (`| head`): nothing more to say, and no one to say it to.
  // Any other write error (a full disk) is one line on stderr.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok);
    const why = err.code === 'ENOSPC' ? 'no space left on device' : err.message;
    process.stderr.write(`error: cannot write the output: ${why} (${err.code ?? 'write error'})\n`);
    process.exit(EXIT.error);
  });
  main(process.argv.slice(2), {
    out: process.stdout,
    err: process.stderr,
    env: process.env,
    // process.stdin opens the standard input on first use: only `analyze -` touches it.
    get in() {
      return process.stdin;
    },
  }).then(
    (code) => {
      process.exitCode = code;
      // Backstop: the command is over (a trace has removed what it started), so nothing left
      // running (a socket to an API server that never answered, an exec credential plugin that
      // never returns) may keep the process alive. Unref'd: a process that can end, ends now.
      setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
    },
    (err) => {
      process.stderr.write(`error: ${(err as Error)?.message ?? err}\n`);
      process.exitCode = EXIT.error;
    },
  );
}
