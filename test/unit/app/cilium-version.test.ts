import { ciliumVersionInfo, ciliumVersionLine } from '../../../src/app/cilium-version.js';
import { parseImageReference, versionOfImage } from '../../../src/core/parse/image-reference.js';

describe('image references', () => {
  it('takes registry, tag and digest apart, a registry port not being a tag', () => {
    expect(parseImageReference('quay.io/cilium/cilium:v1.16.5@sha256:758ca0793f5995bb938a2fa219dcce63dc0b3fa7fc4ce5cc851125281fb7361d')).toEqual({
      repository: 'quay.io/cilium/cilium',
      tag: 'v1.16.5',
      digest: 'sha256:758ca0793f5995bb938a2fa219dcce63dc0b3fa7fc4ce5cc851125281fb7361d',
    });
    expect(parseImageReference('registry.local:5000/cilium/cilium')).toEqual({ repository: 'registry.local:5000/cilium/cilium' });
    expect(parseImageReference('registry.local:5000/cilium/cilium:v1.15.3')).toEqual({ repository: 'registry.local:5000/cilium/cilium', tag: 'v1.15.3' });
  });

  it('reads a release version from the tag only', () => {
    expect(versionOfImage('quay.io/cilium/cilium:v1.16.5')).toBe('1.16.5');
    expect(versionOfImage('quay.io/isovalent/cilium:v1.15.3-cee.1')).toBe('1.15.3-cee.1');
    expect(versionOfImage('docker.io/cilium/cilium:1.11.20')).toBe('1.11.20');
    expect(versionOfImage('quay.io/cilium/cilium:latest')).toBeUndefined();
    expect(versionOfImage('quay.io/cilium/cilium@sha256:758ca0793f5995bb938a2fa219dcce63dc0b3fa7fc4ce5cc851125281fb7361d')).toBeUndefined();
  });
});

describe('the Cilium version line of `version`', () => {
  const agent = (pod: string, image: string, namespace = 'kube-system') => ({ namespace, pod, image });

  it('names the version, the image and where the agents are', () => {
    const info = ciliumVersionInfo([agent('cilium-a', 'quay.io/cilium/cilium:v1.16.5'), agent('cilium-b', 'quay.io/cilium/cilium:v1.16.5')]);
    expect(info.versions).toEqual(['1.16.5']);
    expect(ciliumVersionLine(info)).toBe('cilium 1.16.5 (image quay.io/cilium/cilium:v1.16.5, 2 agent pods in kube-system)');
  });

  it('says when agents run different versions (an upgrade half done)', () => {
    const info = ciliumVersionInfo([agent('cilium-a', 'quay.io/cilium/cilium:v1.15.6'), agent('cilium-b', 'quay.io/cilium/cilium:v1.16.5'), agent('cilium-c', 'quay.io/cilium/cilium:v1.16.5')]);
    expect(ciliumVersionLine(info)).toBe(
      'cilium 1.15.6, 1.16.5 (agents run different versions, an upgrade in progress? 1 on quay.io/cilium/cilium:v1.15.6, 2 on quay.io/cilium/cilium:v1.16.5; 3 agent pods in kube-system)',
    );
  });

  it('says what it saw when the version cannot be told, and when there is no agent', () => {
    const digest = 'quay.io/cilium/cilium@sha256:758ca0793f5995bb938a2fa219dcce63dc0b3fa7fc4ce5cc851125281fb7361d';
    expect(ciliumVersionLine(ciliumVersionInfo([agent('cilium-a', digest, 'cilium')]))).toBe(`cilium unknown (image ${digest} has no version tag; 1 agent pod in cilium)`);
    expect(ciliumVersionLine(ciliumVersionInfo([]))).toBe('cilium not found (no pod labelled k8s-app=cilium)');
  });
});
