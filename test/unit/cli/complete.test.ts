import { Writable } from 'node:stream';
import { complete, DIRECTIVE, formatCompletion, type CompletionSources } from '../../../src/cli/complete.js';
import { buildProgram } from '../../../src/cli/program.js';

class Sink extends Writable {
  override _write(_chunk: Buffer, _enc: string, cb: () => void): void {
    cb();
  }
}

/** The real program, as `kubectl-datapath __complete` sees it. */
const program = buildProgram({ out: new Sink(), err: new Sink(), env: {} }, { exitCode: 0 }, new AbortController().signal);

/** A cluster of two namespaces, recording what completion asked it. */
function cluster(): CompletionSources & { asked: string[] } {
  const pods: Record<string, string[]> = { default: ['same', 'cni-6vf5d', 'cni-x7k2m'], 'kube-system': ['cilium-abcde', 'coredns-1'] };
  const asked: string[] = [];
  return {
    asked,
    pods: async (ns) => {
      asked.push(`pods ${ns ?? '(context)'}`);
      return pods[ns ?? 'default'] ?? [];
    },
    namespaces: async () => {
      asked.push('namespaces');
      return Object.keys(pods);
    },
    contexts: async () => {
      asked.push('contexts');
      return ['lab-admin', 'lab-noexec'];
    },
  };
}

async function values(words: string[], sources = cluster()): Promise<{ values: string[]; directive: number }> {
  const c = await complete(program, words, sources);
  return { values: c.candidates.map((x) => x.value), directive: c.directive };
}

describe('__complete (Cobra protocol)', () => {
  it('offers the subcommands the program declares, with descriptions, and no file names', async () => {
    const c = await complete(program, [''], cluster());
    expect(c.directive).toBe(DIRECTIVE.noFileComp);
    const names = c.candidates.map((x) => x.value);
    expect(names).toEqual(expect.arrayContaining(['analyze', 'version']));
    expect(names).not.toContain('__complete');
    expect(c.candidates.find((x) => x.value === 'analyze')!.description).toMatch(/^build the hop report/);
    expect(await values(['ver'])).toEqual({ values: ['version'], directive: DIRECTIVE.noFileComp });
  });

  it('offers flags of the command and the global ones, short forms only for a bare dash', async () => {
    const long = (await values(['analyze', '--'])).values;
    expect(long).toEqual(expect.arrayContaining(['--point', '--pcapng', '--max-packets', '--namespace', '--output', '--kubeconfig', '--help']));
    expect(long.every((f) => f.startsWith('--'))).toBe(true);
    expect((await values(['analyze', '-'])).values).toEqual(expect.arrayContaining(['-n', '-o', '-h', '--point']));
    expect(await values(['version', '--cl'])).toEqual({ values: ['--client'], directive: DIRECTIVE.noFileComp });
  });

  it('completes flag values: output formats, colour modes, namespaces, contexts; files for file flags', async () => {
    expect(await values(['analyze', '-o', ''])).toEqual({ values: ['table', 'wide', 'json', 'yaml', 'mermaid', 'html'], directive: DIRECTIVE.noFileComp });
    expect(await values(['--output=y'])).toEqual({ values: ['--output=yaml'], directive: DIRECTIVE.noFileComp });
    expect((await values(['--color', 'a'])).values).toEqual(['auto', 'always']);
    expect(await values(['-n', 'ku'])).toEqual({ values: ['kube-system'], directive: DIRECTIVE.noFileComp });
    expect((await values(['--context', ''])).values).toEqual(['lab-admin', 'lab-noexec']);
    expect(await values(['analyze', '--pcapng', ''])).toEqual({ values: [], directive: DIRECTIVE.default });
    expect((await values(['--kubeconfig', ''])).directive).toBe(DIRECTIVE.default);
    expect(await values(['analyze', '--max-packets', ''])).toEqual({ values: [], directive: DIRECTIVE.noFileComp });
  });

  it('leaves file arguments to the shell and asks the cluster nothing for them', async () => {
    const sources = cluster();
    expect(await values(['analyze', 'seed/', ''], sources)).toEqual({ values: [], directive: DIRECTIVE.default });
    expect(await values(['analyze', '--point', 'pod:a/b/eth0=x', ''], sources)).toEqual({ values: [], directive: DIRECTIVE.default });
    expect(sources.asked).toEqual([]);
  });

  it('completes pod arguments from the namespace given with -n, else the context\'s, and NAMESPACE/NAME forms', async () => {
    // A command with pod arguments, declared the way the program's commands declare them.
    const withPods = buildProgram({ out: new Sink(), err: new Sink(), env: {} }, { exitCode: 0 }, new AbortController().signal);
    withPods.command('probe').argument('<src>', 'source pod').argument('<dst>', 'destination pod').option('--save <dir>', 'where to keep outputs');
    const sources = cluster();
    const c = async (words: string[]) => (await complete(withPods, words, sources)).candidates.map((x) => x.value);
    expect(await c(['probe', 'cni'])).toEqual(['cni-6vf5d', 'cni-x7k2m']);
    expect(await c(['probe', 'same', ''])).toEqual(['cni-6vf5d', 'cni-x7k2m', 'same']);
    expect(await c(['-n', 'kube-system', 'probe', ''])).toEqual(['cilium-abcde', 'coredns-1']);
    expect(await c(['probe', '--namespace=kube-system', 'c'])).toEqual(['cilium-abcde', 'coredns-1']);
    expect(await c(['probe', 'kube-system/co'])).toEqual(['kube-system/coredns-1']);
    expect(await c(['probe', 'a', 'b', ''])).toEqual([]);
    expect((await complete(withPods, ['probe', '--save', ''], sources)).directive).toBe(DIRECTIVE.filterDirs);
    expect(sources.asked).toEqual(['pods (context)', 'pods (context)', 'pods kube-system', 'pods kube-system', 'pods kube-system']);
  });

  it('prints candidates one per line, descriptions after a tab, then :directive', () => {
    const c = { candidates: [{ value: 'analyze', description: 'build\tthe\nreport' }, { value: 'version' }], directive: 4 };
    expect(formatCompletion(c, true)).toBe('analyze\tbuild the report\nversion\n:4\n');
    expect(formatCompletion(c, false)).toBe('analyze\nversion\n:4\n');
    expect(formatCompletion({ candidates: [], directive: 0 }, true)).toBe(':0\n');
  });
});
