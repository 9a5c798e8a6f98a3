/**
 * What a pod's "image" contains. Each image becomes a directory of commands (symlinks to this
 * machine's real binaries, or wrapper scripts for the lab's emulated Cilium CLI and pwru), and
 * exec runs with PATH set to that directory only: a command the image lacks fails exactly where
 * a container would fail, whether exec'd directly or started from the image's own `sh`.
 */
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { emulatedBundle, type EmulatedScript } from '../emulated/bundle.js';

/** Where a command of an image comes from. */
export type CommandSource = { kind: 'host' } | { kind: 'emulated'; script: EmulatedScript; cliName?: string };

/** The repository root, from which the API server's script and tsx are found. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const HOST_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Commands nearly every distribution base image has. */
const BASE = ['sh', 'cat', 'ls', 'echo', 'env', 'sleep', 'true', 'false', 'kill'];
/** coreutils-style tools of Debian/Ubuntu/busybox bases. */
const TEXT_AND_FILES = [
  'grep', 'sed', 'awk', 'head', 'tail', 'wc', 'tee', 'tr', 'cut', 'sort', 'uniq', 'xargs', 'find', 'stat', 'readlink',
  'basename', 'dirname', 'touch', 'cp', 'mv', 'ln', 'chmod', 'mkdir', 'rm', 'printf', 'test', 'expr', 'seq', 'base64',
  'od', 'gzip', 'tar', 'date', 'timeout', 'id', 'uname',
];
const CORE = [...BASE, 'bash', ...TEXT_AND_FILES];
const BUSYBOX = [...BASE, ...TEXT_AND_FILES, 'ps', 'pkill', 'pgrep', 'ip', 'ping', 'nsenter'];

/** nicolaka/netshoot: the troubleshooting image (also the default probe image). */
const NETSHOOT = [
  ...CORE,
  'ps', 'pkill', 'pgrep', 'nsenter', 'mount', 'ip', 'ss', 'ping', 'tcpdump', 'ethtool',
  'iptables', 'iptables-save', 'ip6tables', 'xtables-monitor', 'curl', 'jq', 'nc',
];

/** quay.io/cilium/cilium: Ubuntu runtime with iproute2, iptables, jq (no tcpdump, no ping, no procps). */
const CILIUM_AGENT = [...CORE, 'nsenter', 'mount', 'ip', 'iptables', 'iptables-save', 'ip6tables', 'xtables-monitor', 'jq'];

/** docker.io/library/nginx: Debian slim: a shell and coreutils, no network tools. */
const NGINX = [...CORE, 'nsenter', 'mount'];

/** The repository part of an image reference: registry defaults, tag and digest removed. */
export function imageRepository(image: string): string {
  let ref = image.split('@')[0];
  const lastSlash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > lastSlash) ref = ref.slice(0, colon);
  ref = ref.replace(/^(docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '');
  return ref.replace(/^library\//, '');
}

function imageTag(image: string): string {
  const ref = image.split('@')[0];
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? ref.slice(colon + 1) : 'latest';
}

/** Whether a Cilium image tag (v1.16.5, 1.14.2) predates the cilium -> cilium-dbg rename of 1.15. */
function before115(tag: string): boolean {
  const m = /^v?(\d+)\.(\d+)/.exec(tag);
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major < 1 || (major === 1 && minor < 15);
}

/** The commands an image provides, by name. */
export function imageCommands(image: string): Map<string, CommandSource> {
  const repo = imageRepository(image);
  const commands = new Map<string, CommandSource>();
  const host = (names: string[]): void => names.forEach((n) => commands.set(n, { kind: 'host' }));
  switch (repo) {
    case 'nicolaka/netshoot':
      host(NETSHOOT);
      commands.set('pwru', { kind: 'emulated', script: 'pwru' });
      break;
    case 'quay.io/cilium/cilium':
    case 'cilium/cilium':
      host(CILIUM_AGENT);
      // 1.15 renamed the CLI to cilium-dbg and kept `cilium` as a symlink to it.
      commands.set('cilium', { kind: 'emulated', script: 'cilium-dbg', cliName: 'cilium' });
      if (!before115(imageTag(image))) commands.set('cilium-dbg', { kind: 'emulated', script: 'cilium-dbg', cliName: 'cilium-dbg' });
      // The agent image ships the hubble CLI, which talks to the node's own Hubble socket.
      commands.set('hubble', { kind: 'emulated', script: 'hubble' });
      break;
    case 'cilium/pwru':
      host(BUSYBOX);
      commands.set('pwru', { kind: 'emulated', script: 'pwru' });
      break;
    case 'nginx':
      host(NGINX);
      break;
    case 'busybox':
      host(BUSYBOX);
      break;
    default:
      host(BASE);
  }
  return commands;
}

/** The first executable of that name on this machine's standard PATH. */
export function hostBinary(name: string): string | undefined {
  for (const dir of HOST_PATH) {
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

function emulatedWrapper(labDir: string, source: Extract<CommandSource, { kind: 'emulated' }>): string {
  // One node process running the bundle `lab up` made of the TypeScript source (no loader, no
  // parent: a monitor or pwru killed by the trace's stop command gets the signal itself and
  // prints its last lines).
  const bundle = emulatedBundle(labDir, source.script);
  const env = source.cliName ? `LAB_CLI_NAME=${shellQuote(source.cliName)} ` : '';
  return [
    '#!/bin/sh',
    `# EMULATED by the datapath lab (test/lab/emulated/${source.script}.ts, bundled at lab up), not a real binary; LAB_STATE and LAB_NODE come from exec.`,
    `${env}exec ${shellQuote(process.execPath)} ${shellQuote(bundle)} "$@"`,
    '',
  ].join('\n');
}

/** A file-system-safe directory name for an image reference. */
export function imageSlug(image: string): string {
  return image.replace(/[^A-Za-z0-9.-]+/g, '_');
}

/**
 * Builds `<labDir>/images/<slug>/bin` for an image and returns its path and the commands this
 * machine could not provide (left out, so the image lacks them).
 */
export function prepareImage(labDir: string, image: string): { binDir: string; missing: string[] } {
  const binDir = join(labDir, 'images', imageSlug(image), 'bin');
  rmSync(binDir, { recursive: true, force: true });
  mkdirSync(binDir, { recursive: true });
  const missing: string[] = [];
  for (const [name, source] of imageCommands(image)) {
    if (source.kind === 'emulated') {
      writeFileSync(join(binDir, name), emulatedWrapper(labDir, source), { mode: 0o755 });
      continue;
    }
    const binary = hostBinary(name);
    if (binary === undefined) missing.push(name);
    else symlinkSync(binary, join(binDir, name));
  }
  return { binDir, missing };
}

/** Why a container built from this bin directory cannot start argv[0], or undefined when it can. */
export function missingExecutable(binDir: string, argv0: string): string | undefined {
  if (argv0.includes('/')) {
    if (existsSync(argv0) && existsSync(join(binDir, basename(argv0)))) return undefined;
    return `exec: "${argv0}": stat ${argv0}: no such file or directory`;
  }
  if (argv0 !== '' && existsSync(join(binDir, argv0))) return undefined;
  return `exec: "${argv0}": executable file not found in $PATH`;
}
