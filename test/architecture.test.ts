import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

const ROOT = resolve(process.cwd(), 'src');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) out.push(m[1] ?? m[2]);
  return out;
}

describe('dependency rule', () => {
  it('src/core imports nothing outside src/core: no node:*, no packages, no other layer', () => {
    const core = join(ROOT, 'core');
    const offenders: string[] = [];
    for (const f of filesUnder(core)) {
      for (const spec of importsOf(f)) {
        if (!spec.startsWith('.')) {
          offenders.push(`${relative(ROOT, f)} imports ${spec}`);
          continue;
        }
        const target = resolve(dirname(f), spec);
        if (!target.startsWith(core + '/')) offenders.push(`${relative(ROOT, f)} imports ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('finds the imports it checks (the rule cannot pass by reading nothing)', () => {
    const core = filesUnder(join(ROOT, 'core'));
    expect(core.length).toBeGreaterThan(5);
    expect(core.flatMap(importsOf).length).toBeGreaterThan(10);
    expect(importsOf(join(ROOT, 'cli', 'program.ts'))).toContain('commander');
  });
});
