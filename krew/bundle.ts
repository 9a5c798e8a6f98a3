import { build, type Plugin } from 'esbuild';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout: the nearest directory up from this file whose package.json is kubectl-datapath's (from krew/ or dist/krew/). */
export const REPO_ROOT = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'kubectl-datapath') return dir;
    if (dirname(dir) === dir) throw new Error(`no kubectl-datapath checkout above ${from}`);
  }
}

/** Modules a dependency requires only for optional features: they become empty objects. */
const EMPTY_MODULES: Plugin = {
  name: 'empty-modules',
  setup(b) {
    b.onResolve({ filter: /^(encoding|supports-color)$/ }, (args) => ({ path: args.path, namespace: 'empty-module' }));
    b.onLoad({ filter: /.*/, namespace: 'empty-module' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
  },
};

const COMMON = {
  entryPoints: { 'kubectl-datapath': join(REPO_ROOT, 'src/cli/main.ts') },
  bundle: true,
  platform: 'node',
  target: 'node20',
  define: { 'process.env.WS_NO_BUFFER_UTIL': '"1"', 'process.env.WS_NO_UTF_8_VALIDATE': '"1"' },
  plugins: [EMPTY_MODULES],
  legalComments: 'none',
  logLevel: 'error',
  metafile: true,
} as const;

/**
 * bundleCliSingle writes the whole CLI as one CommonJS file for Node 20, which is what a single
 * executable runs (one script, built-in modules only). Lazy `import()`s stay lazy (esbuild wraps
 * each lazily imported module in an init function): `--help` and `version --client` parse the
 * Kubernetes client's code but never run it. Optional requires are cut: node-fetch's `encoding`,
 * debug's `supports-color`, ws's `bufferutil`/`utf-8-validate` (by its environment switches).
 */
export async function bundleCliSingle(outFile: string): Promise<{ bytes: number }> {
  mkdirSync(dirname(outFile), { recursive: true });
  const result = await build({ ...COMMON, plugins: [...COMMON.plugins], format: 'cjs', outfile: outFile });
  return { bytes: Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0) };
}

/**
 * bundleCliSplit writes the CLI as ES modules split at its lazy imports: `outDir/kubectl-datapath.mjs`
 * holds only what every start needs (commander, the program), and `outDir/lib/` the chunks a
 * command loads when it runs (the Kubernetes client, parsers, renderers). Node then reads and
 * compiles ~100 kB to print `--version` instead of 6 MB. CommonJS dependencies get a `require`
 * made for their chunk.
 */
export async function bundleCliSplit(outDir: string): Promise<{ files: string[]; bytes: number; inputsOf: Record<string, string[]> }> {
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    ...COMMON,
    plugins: [...COMMON.plugins],
    format: 'esm',
    splitting: true,
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'lib/[name]-[hash]',
    banner: { js: "import { createRequire as __datapathRequire } from 'node:module'; const require = __datapathRequire(import.meta.url);" },
  });
  const outputs = Object.entries(result.metafile.outputs);
  return {
    files: outputs.map(([f]) => f),
    bytes: outputs.reduce((n, [, o]) => n + o.bytes, 0),
    // Which sources each output holds, so a test can name the chunk of the Kubernetes client.
    inputsOf: Object.fromEntries(outputs.map(([f, o]) => [f, Object.keys(o.inputs)])),
  };
}
