/**
 * The plugin as users run it (the split bundle behind the krew launcher, found by kubectl's
 * plugin discovery) against the lab API server: shell completion lists the cluster's pods and
 * namespaces, and `version` reads the Cilium version from the agent pods.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleCliSplit, REPO_ROOT } from '../../krew/bundle.js';
import { VERSION } from '../../src/cli/version.js';
import { useRunningLab } from './api/fake-lab.js';
import { describeAsRoot } from './require-root.js';

describeAsRoot('the plugin against the lab API server: completion and version', () => {
  const t = useRunningLab();
  let bin: string;

  beforeAll(async () => {
    bin = mkdtempSync(join(tmpdir(), 'datapath-plugin-'));
    await bundleCliSplit(bin);
    copyFileSync(join(REPO_ROOT, 'krew/launcher.js'), join(bin, 'kubectl-datapath'));
    copyFileSync(join(REPO_ROOT, 'krew/kubectl_complete-datapath'), join(bin, 'kubectl_complete-datapath'));
  }, 60_000);

  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  const kubectl = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = spawnSync('/usr/bin/kubectl', args, {
      encoding: 'utf8',
      timeout: 30_000,
      env: { PATH: `${bin}:/usr/bin:/bin`, HOME: bin, KUBECONFIG: t.api.kubeconfig, KUBECACHEDIR: t.cacheDir, ...env },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('completes pod names of the context\'s namespace, and of the namespace -n names', () => {
    const r = kubectl(['__complete', 'datapath', 'endpoints', '']);
    expect(r.stdout).toBe('cni-6vf5d\nsame\n:4\n');
    expect(r.stderr).toContain('Completion ended with directive: ShellCompDirectiveNoFileComp');
    expect(kubectl(['__complete', 'datapath', 'endpoints', 'sa']).stdout).toBe('same\n:4\n');
    const agents = t.lab.state.nodes.map((n) => n.name);
    const inKubeSystem = kubectl(['__complete', 'datapath', '-n', 'kube-system', 'endpoints', '']).stdout.split('\n').slice(0, -2);
    expect(inKubeSystem).toHaveLength(agents.length);
    for (const pod of inKubeSystem) expect(pod).toMatch(/^cilium-/);
    expect(kubectl(['__complete', 'datapath', 'endpoints', 'default/c']).stdout).toBe('default/cni-6vf5d\n:4\n');
  });

  it('completes namespaces for -n and contexts for --context', () => {
    const all = kubectl(['__complete', 'datapath', '-n', '']).stdout.split('\n');
    expect(all).toEqual(expect.arrayContaining(['default', 'kube-system', ':4']));
    expect(kubectl(['__complete', 'datapath', 'endpoints', '--namespace', 'kube-s']).stdout).toBe('kube-system\n:4\n');
    expect(kubectl(['__complete', 'datapath', '--context', 'lab-']).stdout).toBe('lab-admin\nlab-noexec\n:4\n');
  });

  it('offers nothing, at once, when the cluster is not there', () => {
    const started = Date.now();
    const r = kubectl(['__complete', 'datapath', 'endpoints', ''], { KUBECONFIG: join(bin, 'missing-kubeconfig') });
    expect(r.stdout).toBe(':4\n');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('prints the plugin version and the Cilium version the agents run', () => {
    const r = kubectl(['datapath', 'version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`kubectl-datapath ${VERSION}\ncilium 1.16.5 (image quay.io/cilium/cilium:v1.16.5, ${t.lab.state.nodes.length} agent pods in kube-system)\n`);
    expect(r.stderr).toBe('');
    const json = JSON.parse(kubectl(['datapath', 'version', '-o', 'json']).stdout) as { plugin: string; cilium: { versions: string[] } };
    expect(json.plugin).toBe(VERSION);
    expect(json.cilium.versions).toEqual(['1.16.5']);
    expect(kubectl(['datapath', 'version', '--client']).stdout).toBe(`kubectl-datapath ${VERSION}\n`);
  });
});
