import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import type { ManifestPlatform } from '../../krew/manifest.js';

/** Where a plugin ended up, the way krew lays it out under KREW_ROOT. */
export interface KrewInstall {
  root: string;
  /** KREW_ROOT/bin, which users put on PATH. */
  binDir: string;
  /** KREW_ROOT/store/<name>/<version>. */
  installDir: string;
  /** The files krew moved into installDir, relative to it. */
  files: string[];
}

function listTree(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listTree(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]));
}

/** A `*`/`?` glob over one directory level, as Go's filepath.Glob does for `from` patterns without a slash. */
function globOne(dir: string, pattern: string): string[] {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  return readdirSync(dir).filter((n) => re.test(n)).map((n) => join(dir, n));
}

/**
 * installLikeKrew does what `kubectl krew install --manifest=... --archive=...` does after the
 * download (krew internal/installation: install.go, move.go): unpack the archive into a staging
 * directory (with the real tar), apply the platform's `files` operations (a path that exists is
 * moved as is; otherwise `from` is a glob whose matches go into `to`; no `files` means `* -> .`),
 * move the result to store/<name>/<version>, and link bin/kubectl-<name> to the `bin` file with a
 * relative symlink. krew itself cannot be installed on this machine.
 */
export function installLikeKrew(archive: string, platform: ManifestPlatform, pluginName: string, version: string, root = mkdtempSync(join(tmpdir(), 'krew-root-'))): KrewInstall {
  const staging = mkdtempSync(join(tmpdir(), 'krew-downloads-'));
  const moved = mkdtempSync(join(tmpdir(), 'krew-temp-move-'));
  try {
    execFileSync('tar', ['-xzf', archive, '-C', staging]);
    for (const op of platform.files ?? [{ from: '*', to: '.' }]) {
      const direct = join(staging, op.from);
      if (existsSync(direct)) {
        const target = op.to === '.' ? join(moved, basename(direct)) : join(moved, op.to);
        mkdirSync(dirname(target), { recursive: true });
        renameSync(direct, target);
        continue;
      }
      const matches = globOne(staging, op.from);
      if (matches.length === 0) throw new Error(`no files in the plugin archive matched the glob pattern=${op.from}`);
      for (const m of matches) {
        const target = join(moved, op.to, basename(m));
        mkdirSync(dirname(target), { recursive: true });
        renameSync(m, target);
      }
    }
    const installDir = join(root, 'store', pluginName, version);
    mkdirSync(dirname(installDir), { recursive: true });
    renameSync(moved, installDir);
    const binDir = join(root, 'bin');
    mkdirSync(binDir, { recursive: true });
    const bin = join(installDir, platform.bin);
    if (!existsSync(bin)) throw new Error(`can't create symbolic link, source binary (${bin}) cannot be found in extracted archive`);
    symlinkSync(relative(binDir, bin), join(binDir, `kubectl-${pluginName.replace(/-/g, '_')}`));
    mkdirSync(join(root, 'receipts'), { recursive: true });
    writeFileSync(join(root, 'receipts', `${pluginName}.yaml`), `# installed from ${archive} by the test's krew layout\n`);
    return { root, binDir, installDir, files: listTree(installDir) };
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(moved, { recursive: true, force: true });
  }
}
