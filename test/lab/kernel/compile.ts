/**
 * Compiles the lab's BPF programs and their user-space loaders at `up` (clang -target bpf for
 * the programs, cc + libbpf for the loaders), into the lab's bin directory.
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { hasCommand, LabError } from './run.js';

const execFileAsync = promisify(execFile);

/** Directory of the C sources. */
export const BPF_SRC = fileURLToPath(new URL('./bpf/', import.meta.url));

/** What `up` builds, by file name in the bin directory. */
export const ARTIFACTS = {
  datapath: 'datapath.bpf.o',
  agent: 'lab-agent',
  skbtraceObj: 'skbtrace.bpf.o',
  skbtrace: 'lab-skbtrace',
} as const;

/** Names the Debian packages of tools `up` needs that are missing, or returns undefined. */
export function missingTools(): string | undefined {
  const need: [string, string][] = [
    ['clang', 'clang'],
    ['cc', 'gcc'],
    ['tc', 'iproute2'],
    ['ip', 'iproute2'],
    ['sysctl', 'procps'],
  ];
  const missing = need.filter(([cmd]) => !hasCommand(cmd)).map(([cmd, pkg]) => `${cmd} (apt-get install ${pkg})`);
  return missing.length > 0 ? `missing tools: ${missing.join(', ')}` : undefined;
}

async function compile(cmd: string, args: string[]): Promise<void> {
  try {
    await execFileAsync(cmd, args, { cwd: BPF_SRC });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const detail = (e.stderr ?? e.message).trim();
    if (/bpf\/libbpf\.h|bpf\/bpf_helpers\.h|lbpf|lelf/.test(detail)) throw new LabError(`libbpf development files missing (apt-get install libbpf-dev libelf-dev zlib1g-dev): ${detail.split('\n')[0]}`);
    throw new LabError(`${cmd} failed: ${detail.split('\n').slice(0, 5).join(' | ')}`);
  }
}

/** Builds all artifacts in parallel into binDir. */
export async function compileAll(binDir: string): Promise<void> {
  mkdirSync(binDir, { recursive: true });
  const bpf = (src: string, out: string) => compile('clang', ['-O2', '-g', '-Wall', '-target', 'bpf', '-I', BPF_SRC, '-c', join(BPF_SRC, src), '-o', join(binDir, out)]);
  const loader = (src: string, out: string) => compile('cc', ['-O2', '-Wall', '-I', BPF_SRC, '-o', join(binDir, out), join(BPF_SRC, src), '-lbpf', '-lelf', '-lz']);
  await Promise.all([
    bpf('datapath.bpf.c', ARTIFACTS.datapath),
    loader('agent.c', ARTIFACTS.agent),
    bpf('skbtrace.bpf.c', ARTIFACTS.skbtraceObj),
    loader('skbtrace.c', ARTIFACTS.skbtrace),
  ]);
}
