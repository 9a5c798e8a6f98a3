import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildRelease, type Release } from '../../krew/build.js';
import { isLicenseFile, renderManifest, validateManifest, type ManifestPlatform } from '../../krew/manifest.js';
import { VERSION } from '../../src/cli/version.js';
import { installLikeKrew, type KrewInstall } from '../helpers/krew-layout.js';
import { describeWithTools } from '../helpers/require-tools.js';

const KUBECTL = '/usr/bin/kubectl';

/**
 * A PATH with nothing but the given directories and a directory holding kubectl and sh (and node when
 * asked), so `linux/amd64` proves it runs without any Node.js and the launchers prove they use
 * the node on PATH.
 */
function isolatedPath(work: string, dirs: string[], withNode: boolean): string {
  const tools = mkdtempSync(join(work, 'tools-'));
  symlinkSync(KUBECTL, join(tools, 'kubectl'));
  // The completion script starts with #!/usr/bin/env sh.
  symlinkSync('/bin/sh', join(tools, 'sh'));
  if (withNode) symlinkSync(process.execPath, join(tools, 'node'));
  return [...dirs, tools].join(':');
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describeWithTools('krew release: archives, plugin.yaml, install as krew lays it out, kubectl discovery', ['kubectl', 'tar'], () => {
  let work: string;
  let release: Release;
  let manifestText: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'krew-test-'));
    release = await buildRelease({ outDir: join(work, 'dist'), manifestPath: join(work, 'plugin.yaml'), gzipLevel: 6 });
    manifestText = readFileSync(join(work, 'plugin.yaml'), 'utf8');
  }, 120_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const platformOf = (os: string, arch: string): ManifestPlatform => validateManifest(manifestText).manifest.platforms.find((p) => p.os === os && p.arch === arch)!;

  it('writes a plugin.yaml krew-index would accept, with the sha256 of each archive it built', () => {
    const { manifest, problems } = validateManifest(manifestText);
    expect(problems).toEqual([]);
    expect(manifest.name).toBe('datapath');
    expect(manifest.version).toBe(`v${VERSION}`);
    expect(manifest.platforms.map((p) => `${p.os}/${p.arch}`).sort()).toEqual(['darwin/amd64', 'darwin/arm64', 'linux/amd64', 'linux/arm64']);
    for (const a of release.archives) {
      const p = platformOf(a.os, a.arch);
      expect(p.uri).toBe(a.uri);
      expect(p.uri.endsWith(`/kubectl-datapath_v${VERSION}_${a.os}_${a.arch}.tar.gz`)).toBe(true);
      expect(p.sha256).toBe(createHash('sha256').update(readFileSync(a.path)).digest('hex'));
    }
    expect(manifest.caveats).toMatch(/Cilium/);
    expect(manifest.caveats).toMatch(/hostNetwork and hostPID/);
    // The capabilities the probe pods really ask for (src/app/probe-pods.ts), each named in the caveats.
    const probePods = readFileSync('src/app/probe-pods.ts', 'utf8');
    for (const role of ['capture', 'pwru']) {
      const caps = new RegExp(`^\\s*${role}: \\[([^\\]]*)\\]`, 'm').exec(probePods)![1].match(/[A-Z_]+/g)!;
      expect(caps.length).toBeGreaterThan(0);
      expect(manifest.caveats.replace(/\s+/g, ' ')).toContain(`${caps.join(', ')} for ${role === 'capture' ? 'captures' : 'pwru'}`);
    }
    expect(manifest.caveats).toMatch(/Node\.js[\s\S]*version 20 or later/);
  });

  it('finds what krew-index would refuse', () => {
    const broken = manifestText
      .replace(`version: v${VERSION}`, `version: ${VERSION}`)
      .replace(/sha256: ([a-f0-9]{64})/, (_, h: string) => `sha256: ${h.toUpperCase()}`)
      .replace('arch: arm64', 'arch: mips')
      .replace("shortDescription: Trace a pod's packets through the Cilium datapath", 'shortDescription: |\n    two\n    lines');
    expect(validateManifest(broken).problems).toEqual([
      `spec.version "${VERSION}" is not a semantic version with a leading v`,
      'spec.shortDescription has a line break',
      expect.stringMatching(/^spec\.platforms\[0\]\.sha256 "[A-F0-9]{64}" is not 64 lowercase hex digits$/),
      'spec.platforms[1]: linux/mips is not a platform krew-index accepts',
    ]);
  });

  it('keeps the committed plugin.yaml a rendering of krew/.krew.yaml that krew-index would accept', () => {
    const committed = readFileSync('plugin.yaml', 'utf8');
    const { manifest, problems } = validateManifest(committed);
    expect(problems).toEqual([]);
    const shaOf = new Map(manifest.platforms.map((p) => [p.uri, p.sha256]));
    expect(renderManifest(readFileSync('krew/.krew.yaml', 'utf8'), manifest.version, (uri) => shaOf.get(uri)!)).toBe(committed);
  });

  it('puts a LICENSE and every file the manifest names into every archive', () => {
    for (const a of release.archives) {
      const listed = execFileSync('tar', ['-tzf', a.path], { encoding: 'utf8' }).split('\n').filter((l) => l !== '');
      expect(listed.filter((f) => isLicenseFile(f))).toEqual(['LICENSE']);
      for (const f of platformOf(a.os, a.arch).files ?? []) expect(listed).toContainEqual(expect.stringMatching(new RegExp(`^${f.from}/?$`)));
      expect(listed).toContain('kubectl_complete-datapath');
    }
  });

  describe.each([
    ['linux', 'amd64', false],
    ['linux', 'arm64', true],
    ['darwin', 'amd64', true],
    ['darwin', 'arm64', true],
  ])('installed from the %s/%s archive', (os, arch, needsNode) => {
    let install: KrewInstall;
    let env: NodeJS.ProcessEnv;

    beforeAll(() => {
      const archive = release.archives.find((a) => a.os === os && a.arch === arch)!;
      install = installLikeKrew(archive.path, platformOf(os, arch), 'datapath', release.tag, join(work, `krew-${os}-${arch}`));
      const home = mkdtempSync(join(work, 'home-'));
      env = { HOME: home, PATH: isolatedPath(work, [install.binDir], needsNode), KUBECACHEDIR: join(home, 'cache') };
    });

    it('holds the files krew would install, LICENSE among them', () => {
      expect(install.files).toContain('LICENSE');
      expect(install.files).toContain('kubectl-datapath');
      if (needsNode) expect(install.files).toContain('kubectl-datapath.mjs');
    });

    it(`runs as \`kubectl datapath version\` through kubectl's plugin discovery${needsNode ? ' with the node on PATH' : ', with no Node.js on PATH'}`, () => {
      const r = run(KUBECTL, ['datapath', 'version'], env);
      expect(r.stdout).toBe(`kubectl-datapath ${VERSION}\n`);
      expect(r.code).toBe(0);
      // No kubeconfig in this HOME: the Cilium line is left out and stderr says why.
      expect(r.stderr).toMatch(/^cilium version unknown: no kubeconfig found/);
      const list = run(KUBECTL, ['plugin', 'list'], env);
      expect(list.stdout).toContain(join(install.binDir, 'kubectl-datapath'));
    });

    it('answers kubectl\'s shell completion through kubectl_complete-datapath', () => {
      const completeDir = join(dirname(install.binDir), 'completion-bin');
      mkdirSync(completeDir, { recursive: true });
      // What the caveats tell users to do: put the completion script on PATH.
      copyFileSync(join(install.installDir, 'kubectl_complete-datapath'), join(completeDir, 'kubectl_complete-datapath'));
      const withCompletion = { ...env, PATH: `${completeDir}:${env.PATH}` };
      const r = run(KUBECTL, ['__complete', 'datapath', 'an'], withCompletion);
      expect(r.stdout.split('\n')).toEqual([expect.stringMatching(/^analyze\tbuild the hop report/), ':4', '']);
      expect(r.stderr).toContain('Completion ended with directive: ShellCompDirectiveNoFileComp');
      const formats = run(KUBECTL, ['__complete', 'datapath', 'analyze', '-o', ''], withCompletion);
      expect(formats.stdout).toBe('table\nwide\njson\nyaml\nmermaid\nhtml\n:4\n');
    });
  });

  it('stops a launcher with a clear message when the node on PATH is older than 20', () => {
    const install = installLikeKrew(release.archives.find((a) => a.os === 'darwin')!.path, platformOf('darwin', 'arm64'), 'datapath', release.tag, join(work, 'krew-old-node'));
    // A node that says it is 18: the real one with a preload that changes the version it reports.
    const fake = mkdtempSync(join(work, 'old-node-'));
    writeFileSync(join(fake, 'as-node-18.cjs'), "Object.defineProperty(process, 'versions', { value: { ...process.versions, node: '18.19.0' } });\nObject.defineProperty(process, 'version', { value: 'v18.19.0' });\n");
    writeFileSync(join(fake, 'node'), `#!/bin/sh\nexec ${process.execPath} -r ${join(fake, 'as-node-18.cjs')} "$@"\n`, { mode: 0o755 });
    const r = run(join(install.binDir, 'kubectl-datapath'), ['version', '--client'], { PATH: `${fake}:/bin`, HOME: work });
    expect(r.stderr).toBe('kubectl-datapath needs Node.js 20 or later; the node on PATH is v18.19.0 (install Node.js 20+ and retry)\n');
    expect(r.code).toBe(1);
  });
});
