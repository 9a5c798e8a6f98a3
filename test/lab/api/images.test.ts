import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageCommands, imageRepository, missingExecutable, prepareImage } from './images.js';

describe('image references', () => {
  it.each([
    ['nicolaka/netshoot:v0.13', 'nicolaka/netshoot'],
    ['docker.io/nicolaka/netshoot:v0.13', 'nicolaka/netshoot'],
    ['docker.io/library/nginx:1.27', 'nginx'],
    ['quay.io/cilium/cilium:v1.16.5@sha256:758ca0793f5995bb938a2fa219dcce63dc0b3fa7fc4ce5cc851125281fb7361d', 'quay.io/cilium/cilium'],
    ['localhost:5000/tools', 'localhost:5000/tools'],
  ])('%s -> %s', (image, repo) => expect(imageRepository(image)).toBe(repo));
});

describe('image contents', () => {
  it('gives netshoot the capture tools and the emulated pwru', () => {
    const c = imageCommands('nicolaka/netshoot:v0.13');
    for (const name of ['sh', 'tcpdump', 'ping', 'ip', 'ethtool', 'nsenter', 'timeout', 'pkill', 'iptables', 'xtables-monitor']) expect(c.get(name)).toEqual({ kind: 'host' });
    expect(c.get('pwru')).toEqual({ kind: 'emulated', script: 'pwru' });
  });

  it('gives nginx neither tcpdump nor ping', () => {
    const c = imageCommands('docker.io/library/nginx:1.27');
    expect(c.has('sh')).toBe(true);
    expect(c.has('tcpdump')).toBe(false);
    expect(c.has('ping')).toBe(false);
  });

  it('names the agent CLI by Cilium version: cilium-dbg and cilium from 1.15, only cilium before', () => {
    const v116 = imageCommands('quay.io/cilium/cilium:v1.16.5');
    expect(v116.get('cilium-dbg')).toEqual({ kind: 'emulated', script: 'cilium-dbg', cliName: 'cilium-dbg' });
    expect(v116.get('cilium')).toEqual({ kind: 'emulated', script: 'cilium-dbg', cliName: 'cilium' });
    expect(v116.has('tcpdump')).toBe(false);
    const v114 = imageCommands('quay.io/cilium/cilium:v1.14.2');
    expect(v114.has('cilium-dbg')).toBe(false);
    expect(v114.has('cilium')).toBe(true);
  });
});

describe('image directories', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'dplab-images-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('links real binaries and writes labelled wrappers for emulated ones', () => {
    const { binDir, missing } = prepareImage(dir, 'quay.io/cilium/cilium:v1.16.5');
    expect(missing).toEqual([]);
    expect(readlinkSync(join(binDir, 'ip'))).toMatch(/\/ip$/);
    expect(lstatSync(join(binDir, 'cilium-dbg')).mode & 0o111).not.toBe(0);
    const wrapper = readFileSync(join(binDir, 'cilium-dbg'), 'utf8');
    expect(wrapper).toContain('EMULATED');
    expect(wrapper).toContain("LAB_CLI_NAME='cilium-dbg' exec");
    // It runs the bundle `lab up` made in the lab directory, one node process, no loader.
    expect(wrapper).toContain(`exec '${process.execPath}' '${join(dir, 'bin/emulated/cilium-dbg.mjs')}' "$@"`);
    expect(wrapper).not.toContain('tsx');
  });

  it('explains a missing command the way runc does', () => {
    const { binDir } = prepareImage(dir, 'docker.io/library/nginx:1.27');
    expect(missingExecutable(binDir, 'sh')).toBeUndefined();
    expect(missingExecutable(binDir, 'tcpdump')).toBe('exec: "tcpdump": executable file not found in $PATH');
    expect(missingExecutable(binDir, '/usr/bin/tcpdump')).toBe('exec: "/usr/bin/tcpdump": stat /usr/bin/tcpdump: no such file or directory');
  });
});
