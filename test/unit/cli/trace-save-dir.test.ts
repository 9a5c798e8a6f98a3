import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveDir } from '../../../src/adapters/save-dir.js';
import { runMain } from '../../helpers/run-main.js';

const run = (args: string[]) => runMain(args, { KUBECONFIG: '/nonexistent/kubeconfig' });

describe('trace --save DIR never writes over an existing file without --force', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'save-dir-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a directory holding an earlier run is refused before the cluster is asked anything (exit 2), its files kept', async () => {
    const save = join(dir, 'run1');
    mkdirSync(save);
    writeFileSync(join(save, 'run.json'), 'evidence\n');
    const r = await run(['trace', 'a', 'b', '--save', save]);
    expect(r).toEqual({
      code: 2,
      out: '',
      err: `error: --save "${save}" already holds 1 file (run.json): give a new or empty directory, or add --force to replace them\n`,
    });
    expect(readFileSync(join(save, 'run.json'), 'utf8')).toBe('evidence\n');
  });

  it('a file as DIR is refused; a new or empty directory and --force pass on to the cluster (here: no kubeconfig, exit 1)', async () => {
    writeFileSync(join(dir, 'f'), 'x');
    expect((await run(['trace', 'a', 'b', '--save', join(dir, 'f')])).err).toBe(`error: --save "${join(dir, 'f')}" is not a directory: give a new or empty directory\n`);
    writeFileSync(join(dir, 'run.json'), 'old\n');
    for (const args of [['--save', join(dir, 'new')], ['--save', dir, '--force']]) {
      const r = await run(['trace', 'a', 'b', ...args]);
      expect(r.code).toBe(1);
      expect(r.err).not.toContain('--save');
    }
  });

  it('the writer itself refuses an existing file unless forced (a file that appeared during the trace)', async () => {
    writeFileSync(join(dir, 'run.json'), 'old\n');
    await expect(saveDir(dir).write('run.json', [Buffer.from('new\n')])).rejects.toThrow(/EEXIST/);
    expect(readFileSync(join(dir, 'run.json'), 'utf8')).toBe('old\n');
    await saveDir(dir, true).write('run.json', [Buffer.from('new\n')]);
    expect(readFileSync(join(dir, 'run.json'), 'utf8')).toBe('new\n');
  });
});
