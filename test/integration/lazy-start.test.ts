import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundleCliSplit, REPO_ROOT } from '../../krew/bundle.js';

/**
 * `--help`, `--version` and `version --client` must not load the Kubernetes client: the split
 * bundle (what the krew launcher runs) is started with a module hook that records every file
 * Node loads, and the chunk holding @kubernetes/client-node must not be among them.
 */
describe('fast start: what a start loads', () => {
  let dir: string;
  let clientChunks: string[];
  let hooks: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lazy-start-'));
    const built = await bundleCliSplit(join(dir, 'bundle'));
    clientChunks = Object.entries(built.inputsOf)
      .filter(([, inputs]) => inputs.some((i) => i.includes('node_modules/@kubernetes/client-node/')))
      .map(([file]) => resolve(file));
    copyFileSync(join(REPO_ROOT, 'krew/launcher.js'), join(dir, 'bundle', 'kubectl-datapath'));
    writeFileSync(join(dir, 'record.mjs'), "import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) {\n  appendFileSync(process.env.LOADED_LOG, url + '\\n');\n  return next(url, context);\n}\n");
    hooks = join(dir, 'register.mjs');
    writeFileSync(hooks, "import { register } from 'node:module';\nregister('./record.mjs', import.meta.url);\n");
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function loadedBy(args: string[]): { files: string[]; status: number | null } {
    const log = join(dir, `loaded-${args.join('_')}.txt`);
    writeFileSync(log, '');
    const r = spawnSync(process.execPath, ['--import', hooks, join(dir, 'bundle', 'kubectl-datapath'), ...args], {
      env: { PATH: process.env.PATH, HOME: dir, LOADED_LOG: log },
      encoding: 'utf8',
    });
    const files = readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('file://')).map((u) => new URL(u).pathname);
    return { files, status: r.status };
  }

  it('finds the Kubernetes client in a chunk of its own', () => {
    expect(clientChunks).toHaveLength(1);
    expect(statSync(clientChunks[0]).size).toBeGreaterThan(1_000_000);
  });

  it.each([[['--help']], [['--version']], [['version', '--client']], [['analyze', '--help']]])('%j loads neither the client nor more than 300 kB', (args) => {
    const { files, status } = loadedBy(args);
    expect(status).toBe(0);
    expect(files).toContain(join(dir, 'bundle', 'kubectl-datapath.mjs'));
    for (const chunk of clientChunks) expect(files).not.toContain(chunk);
    expect(files.reduce((n, f) => n + statSync(f).size, 0)).toBeLessThan(300_000);
  });

  it('loads the client when a command needs the cluster (so the check above can fail)', () => {
    const { files } = loadedBy(['version']);
    expect(files).toContain(clientChunks[0]);
  });
});
