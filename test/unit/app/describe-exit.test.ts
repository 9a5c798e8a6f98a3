import { describeExit } from '../../../src/app/run-probes.js';
import type { ExecResult } from '../../../src/app/ports.js';

/**
 * Which program is missing, for the one line a failed probe gets: the message of whoever could not
 * find it decides (the runtime's for the command itself, the shell's for a program the wrapper
 * script ran), not the name of the tool the wrapper was meant to run.
 */
const result = (argv: string[], stderr: string): ExecResult => ({
  pod: { namespace: 'kube-system', name: 'cilium-n1' },
  container: 'cilium-agent',
  argv,
  exitCode: 127,
  stdout: '',
  stderr,
  durationMs: 5,
  canceled: false,
  commandNotFound: true,
});
const hubbleScript = ['sh', '-c', 'exec "$0" "$@"', 'hubble', 'observe'];

describe('describeExit names the program that was not found', () => {
  it.each([
    ['the runtime could not start sh itself', hubbleScript, 'exec: "sh": executable file not found in $PATH', 'sh is not in the image of kube-system/cilium-n1 (cilium-agent)'],
    ['a shell without sh (busybox-like message)', hubbleScript, 'sh: sh: not found', 'sh is not in the image of kube-system/cilium-n1 (cilium-agent)'],
    ["dash: the script's tool is missing", hubbleScript, 'sh: 1: hubble: not found', 'hubble is not in the image of kube-system/cilium-n1 (cilium-agent)'],
    ['bash: the timeout wrapper is missing', ['timeout', '30', 'tcpdump'], 'bash: line 1: timeout: command not found', 'timeout is not in the image of kube-system/cilium-n1 (cilium-agent)'],
    ['no message: the wrapped tool is the guess, with what the shell said', hubbleScript, 'permission denied somewhere', 'hubble is not in the image of kube-system/cilium-n1 (cilium-agent): permission denied somewhere'],
  ])('%s', (_case, argv, stderr, line) => {
    expect(describeExit(result(argv, stderr))).toBe(line);
  });
});
