import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { ApiError } from './status.js';

describe('labelSelector', () => {
  const labels = { 'k8s-app': 'cilium', tier: 'node', rev: '7' };
  it.each([
    ['', true],
    ['k8s-app=cilium', true],
    ['k8s-app==cilium', true],
    ['k8s-app!=cilium', false],
    ['k8s-app=cilium,tier=node', true],
    ['k8s-app=cilium,tier=web', false],
    ['tier in (web, node)', true],
    ['tier notin (web,node)', false],
    ['tier in (web),k8s-app', false],
    ['k8s-app', true],
    ['!k8s-app', false],
    ['!missing', true],
    ['missing!=x', true],
    ['rev>5', true],
    ['rev<5', false],
  ])('%j matches: %s', (selector, expected) => {
    expect(parseLabelSelector(selector)(labels)).toBe(expected);
  });

  it('rejects what apimachinery cannot parse with a 400', () => {
    expect(() => parseLabelSelector('a=(b')).toThrow(ApiError);
    try {
      parseLabelSelector('a b c');
    } catch (e) {
      expect((e as ApiError).status.code).toBe(400);
    }
  });
});

describe('fieldSelector', () => {
  const fields = (o: unknown) => o as Record<string, string>;
  const unsupported = (f: string) => new Error(`field label not supported: ${f}`);
  const known = ['metadata.name', 'spec.nodeName'];

  it('matches equality and inequality, ANDed', () => {
    const m = parseFieldSelector('spec.nodeName=bpf1,metadata.name!=same', known, fields, unsupported);
    expect(m({ 'spec.nodeName': 'bpf1', 'metadata.name': 'cni' })).toBe(true);
    expect(m({ 'spec.nodeName': 'bpf1', 'metadata.name': 'same' })).toBe(false);
    expect(m({ 'spec.nodeName': 'bpf2', 'metadata.name': 'cni' })).toBe(false);
  });

  it('refuses a field the resource does not index, before looking at any object', () => {
    expect(() => parseFieldSelector('status.hostIP=1.2.3.4', known, fields, unsupported)).toThrow('field label not supported: status.hostIP');
  });
});
