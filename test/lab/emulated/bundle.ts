/**
 * The lab's EMULATED programs (cilium-dbg.ts, pwru.ts) as plain JavaScript: bundled with esbuild
 * at `lab up` into the lab's bin directory, which is what the image wrappers (api/images.ts) and
 * the kernel-side tests exec. The .ts files stay the source of truth; a bundle is rebuilt at
 * every `up` (about 0.1 s, while the BPF programs compile). Under tsx's loader every exec cost
 * about 0.4 CPU-s of loader start-up and transpiling, several times what the program itself does;
 * the bundle starts in about 0.1 s, closer to the Go binaries they stand for.
 */
import { build } from 'esbuild';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type EmulatedScript = 'cilium-dbg' | 'pwru' | 'hubble' | 'pod-servers';

const SCRIPTS: EmulatedScript[] = ['cilium-dbg', 'pwru', 'hubble', 'pod-servers'];
const SOURCE_DIR = fileURLToPath(new URL('./', import.meta.url));

/** The bundle of an emulated program in a lab directory. */
export function emulatedBundle(labDir: string, script: EmulatedScript): string {
  return join(labDir, 'bin', 'emulated', `${script}.mjs`);
}

/** Whether both bundles exist in a lab directory. */
export function hasEmulatedBundles(labDir: string): boolean {
  return SCRIPTS.every((s) => existsSync(emulatedBundle(labDir, s)));
}

/**
 * bundleEmulated writes `<labDir>/bin/emulated/{cilium-dbg,pwru}.mjs`: ES modules (the sources
 * use import.meta.url) for Node 20, each whole, labelled as emulated in their first line.
 */
export async function bundleEmulated(labDir: string): Promise<void> {
  const outdir = join(labDir, 'bin', 'emulated');
  mkdirSync(outdir, { recursive: true });
  await Promise.all(
    SCRIPTS.map((script) =>
      build({
        entryPoints: [join(SOURCE_DIR, `${script}.ts`)],
        outfile: emulatedBundle(labDir, script),
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'esm',
        banner: { js: `// EMULATED by the datapath lab, not a real ${script === 'pod-servers' ? 'nginx' : script}: a bundle of test/lab/emulated/${script}.ts made at lab up.` },
        legalComments: 'none',
        logLevel: 'error',
      }),
    ),
  );
}
