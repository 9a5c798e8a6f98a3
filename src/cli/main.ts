#!/usr/bin/env node
import { CommanderError } from 'commander';
import { DatapathError, EXIT } from '../core/errors.js';
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
      io.err.write(`error: ${err.message}\n`);
      if (debug && err.stack) io.err.write(`${err.stack}\n`);
      return err.exitCode;
    }
    const e = err as Error;
    io.err.write(`error: ${e?.message ?? String(err)} (this is a bug in kubectl-datapath: please report it with --debug output)\n`);
    if (debug && e?.stack) io.err.write(`${e.stack}\n`);
    return EXIT.error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const isEntry = process.argv[1] && /kubectl[-_]datapath|main\.(js|ts|cjs)$/.test(process.argv[1]);
if (isEntry) {
  main(process.argv.slice(2), { out: process.stdout, err: process.stderr, env: process.env }).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`error: ${(err as Error)?.message ?? err}\n`);
      process.exitCode = EXIT.error;
    },
  );
}
