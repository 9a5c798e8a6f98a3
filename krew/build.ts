/**
 * `npm run krew`: builds the release archives into dist/krew/ and writes plugin.yaml with their
 * real sha256 values.
 *   linux/amd64               kubectl-datapath: a single executable (no Node.js needed)
 *   linux/arm64, darwin/*     kubectl-datapath: a launcher that runs kubectl-datapath.mjs and lib/
 *                             with the node on PATH (>= 20)
 * Every archive also holds kubectl_complete-datapath and LICENSE.
 * Options: --out DIR (dist/krew), --manifest FILE (plugin.yaml), --level N (gzip, 6).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleCliSingle, bundleCliSplit, REPO_ROOT } from './bundle.js';
import { renderManifest, templateUris } from './manifest.js';
import { buildSingleExecutable } from './sea.js';
import { tarGz, type ArchiveFile } from './tar.js';

export interface ReleaseOptions {
  outDir: string;
  manifestPath: string;
  gzipLevel: number;
}

export interface BuiltArchive {
  os: string;
  arch: string;
  path: string;
  uri: string;
  sha256: string;
  files: string[];
}

export interface Release {
  tag: string;
  archives: BuiltArchive[];
  manifest: string;
  /** Sizes for the closing note: the single executable and the split bundle's first file. */
  sizes: { singleExecutable: number; entry: number; bundle: number };
}

const PLATFORMS = [
  { os: 'linux', arch: 'amd64', single: true },
  { os: 'linux', arch: 'arm64', single: false },
  { os: 'darwin', arch: 'amd64', single: false },
  { os: 'darwin', arch: 'arm64', single: false },
];

function file(name: string, path: string, mode: number): ArchiveFile {
  return { name, data: new Uint8Array(readFileSync(path)), mode };
}

/** `dir` and everything under it, as archive entries named `prefix...`, sorted so archives are reproducible. */
function tree(dir: string, prefix: string): ArchiveFile[] {
  const entries = readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? tree(path, `${prefix}${name}/`) : [file(`${prefix}${name}`, path, 0o644)];
    });
  return [{ name: prefix, data: new Uint8Array(), mode: 0o755 }, ...entries];
}

/** The plugin version, which package.json, src/cli/version.ts and the tag must agree on. */
export function releaseTag(): string {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const source = readFileSync(join(REPO_ROOT, 'src/cli/version.ts'), 'utf8');
  const inSource = /VERSION = '([^']+)'/.exec(source)?.[1];
  if (inSource !== pkg.version) throw new Error(`src/cli/version.ts says ${inSource}, package.json says ${pkg.version}: make them agree`);
  return `v${pkg.version}`;
}

/** buildRelease builds every archive and the manifest that names them. */
export async function buildRelease(opts: ReleaseOptions): Promise<Release> {
  const tag = releaseTag();
  const template = readFileSync(join(REPO_ROOT, 'krew/.krew.yaml'), 'utf8');
  const uris = templateUris(template, tag);
  mkdirSync(opts.outDir, { recursive: true });
  const stage = mkdtempSync(join(tmpdir(), 'datapath-krew-'));
  try {
    const split = join(stage, 'split');
    await bundleCliSplit(split);
    const single = join(stage, 'kubectl-datapath.cjs');
    await bundleCliSingle(single);
    const exe = join(stage, 'kubectl-datapath');
    const sea = buildSingleExecutable(single, exe);

    const common = [file('kubectl_complete-datapath', join(REPO_ROOT, 'krew/kubectl_complete-datapath'), 0o755), file('LICENSE', join(REPO_ROOT, 'LICENSE'), 0o644)];
    const launcherFiles = [
      file('kubectl-datapath', join(REPO_ROOT, 'krew/launcher.js'), 0o755),
      file('kubectl-datapath.mjs', join(split, 'kubectl-datapath.mjs'), 0o644),
      ...tree(join(split, 'lib'), 'lib/'),
    ];
    const archives: BuiltArchive[] = [];
    for (const p of PLATFORMS) {
      const name = `kubectl-datapath_${tag}_${p.os}_${p.arch}.tar.gz`;
      const uri = uris.find((u) => u.endsWith(`/${name}`));
      if (!uri) throw new Error(`krew/.krew.yaml has no platform whose archive is ${name}`);
      const files = [...(p.single ? [file('kubectl-datapath', exe, 0o755)] : launcherFiles), ...common];
      const bytes = await tarGz(files, opts.gzipLevel);
      const path = join(opts.outDir, name);
      writeFileSync(path, bytes);
      archives.push({ os: p.os, arch: p.arch, path, uri, sha256: createHash('sha256').update(bytes).digest('hex'), files: files.map((f) => f.name) });
    }
    const manifest = renderManifest(template, tag, (uri) => {
      const a = archives.find((x) => x.uri === uri);
      if (!a) throw new Error(`no archive was built for ${uri}`);
      return a.sha256;
    });
    writeFileSync(opts.manifestPath, manifest);
    const entry = statSync(join(split, 'kubectl-datapath.mjs')).size;
    const bundle = statSync(single).size;
    return { tag, archives, manifest, sizes: { singleExecutable: sea.bytes, entry, bundle } };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

function flag(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}

async function main(args: string[]): Promise<void> {
  const opts: ReleaseOptions = {
    outDir: flag(args, '--out', join(REPO_ROOT, 'dist/krew')),
    manifestPath: flag(args, '--manifest', join(REPO_ROOT, 'plugin.yaml')),
    gzipLevel: Number(flag(args, '--level', '6')),
  };
  const started = Date.now();
  const release = await buildRelease(opts);
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  for (const a of release.archives) {
    process.stdout.write(`${relative(process.cwd(), a.path)}  ${a.os}/${a.arch}  ${mb(statSync(a.path).size)}  sha256 ${a.sha256}\n`);
  }
  process.stdout.write(`${relative(process.cwd(), opts.manifestPath)}: ${release.tag}, ${release.archives.length} platforms (${((Date.now() - started) / 1000).toFixed(1)} s; single executable ${mb(release.sizes.singleExecutable)}, bundle ${mb(release.sizes.bundle)}, split entry ${(release.sizes.entry / 1e3).toFixed(1)} kB)\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`krew build failed: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
