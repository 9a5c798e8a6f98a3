/**
 * The emulated programs as the lab runs them: `up` bundles cilium-dbg.ts and pwru.ts to plain
 * JavaScript, and the images' wrappers exec the bundles. Each bundle is labelled as emulated,
 * needs neither tsx nor the TypeScript sources, and answers like its source. No root needed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleEmulated, emulatedBundle, hasEmulatedBundles } from './emulated/bundle.js';

describe('bundled emulated programs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dplab-bundle-'));
    expect(hasEmulatedBundles(dir)).toBe(false);
    await bundleEmulated(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Run from an empty directory with no NODE_OPTIONS: nothing but the bundle and Node.
  const run = (script: 'cilium-dbg' | 'pwru', args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [emulatedBundle(dir, script), ...args], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });

  it('writes both bundles, labelled as emulated, without tsx or .ts imports', () => {
    expect(hasEmulatedBundles(dir)).toBe(true);
    for (const script of ['cilium-dbg', 'pwru'] as const) {
      const code = readFileSync(emulatedBundle(dir, script), 'utf8');
      expect(code.split('\n', 1)[0]).toMatch(new RegExp(`^// EMULATED by the datapath lab, not a real ${script}`));
      expect(code).not.toMatch(/from ["'][^"']*\.ts["']|tsx/);
    }
  });

  it('runs the agent CLI under both of its names', () => {
    const dbg = run('cilium-dbg', ['--help']);
    expect({ status: dbg.status, stderr: dbg.stderr }).toEqual({ status: 0, stderr: '' });
    expect(dbg.stdout).toContain('(EMULATED by the datapath lab)');
    expect(dbg.stdout).toContain('  cilium-dbg [command]');
    expect(run('cilium-dbg', ['--help'], { LAB_CLI_NAME: 'cilium' }).stdout).toContain('  cilium [command]');
    // Outside a lab it says so, as the source does.
    const outside = run('cilium-dbg', ['status']);
    expect(outside.status).toBe(1);
    expect(outside.stderr).toMatch(/^Error: LAB_STATE and LAB_NODE must be set/);
  });

  it('runs pwru', () => {
    const help = run('pwru', ['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout + help.stderr).toContain('Usage: pwru [options] [pcap-filter]');
    const old = run('pwru', ['--filter-src-ip', '10.0.1.135']);
    expect(old.status).not.toBe(0);
    expect(old.stderr).toContain('unknown flag');
  });
});
