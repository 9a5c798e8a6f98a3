import { versionOfImage } from '../core/parse/image-reference.js';

/** An agent pod as `version` sees it: where it runs and the image of its cilium-agent container. */
export interface AgentPodImage {
  namespace: string;
  pod: string;
  image: string;
}

/** What the cluster runs, for `version`: each distinct Cilium version with its image and pods. */
export interface CiliumVersionInfo {
  /** Distinct versions, sorted; empty when no agent pod was found or no image carries a version tag. */
  versions: string[];
  agents: (AgentPodImage & { version: string | null })[];
}

/** ciliumVersionInfo reads the Cilium version from the agents' image tags. */
export function ciliumVersionInfo(agents: AgentPodImage[]): CiliumVersionInfo {
  const withVersion = agents.map((a) => ({ ...a, version: versionOfImage(a.image) ?? null }));
  const versions = [...new Set(withVersion.map((a) => a.version).filter((v): v is string => v !== null))].sort();
  return { versions, agents: withVersion };
}

/** ciliumVersionLine says it in one line: `cilium 1.16.5 (image ..., 2 agent pods in kube-system)`. */
export function ciliumVersionLine(info: CiliumVersionInfo): string {
  const agents = info.agents;
  if (agents.length === 0) return 'cilium not found (no pod labelled k8s-app=cilium)';
  const namespaces = [...new Set(agents.map((a) => a.namespace))].sort().join(', ');
  const images = [...new Set(agents.map((a) => a.image))].sort();
  const pods = `${agents.length} agent ${agents.length === 1 ? 'pod' : 'pods'} in ${namespaces}`;
  if (info.versions.length === 0) return `cilium unknown (image ${images.join(', ')} has no version tag; ${pods})`;
  if (images.length === 1) return `cilium ${info.versions[0]} (image ${images[0]}, ${pods})`;
  const perImage = images.map((image) => `${agents.filter((a) => a.image === image).length} on ${image}`).join(', ');
  const mixed = info.versions.length > 1 ? 'agents run different versions, an upgrade in progress?' : 'same version, different images';
  return `cilium ${info.versions.join(', ')} (${mixed} ${perImage}; ${pods})`;
}
