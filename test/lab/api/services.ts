/**
 * The lab's Services as API objects: a v1 Service per planned Service (kernel/services.ts) and the
 * EndpointSlice (discovery.k8s.io/v1) the endpointslice controller keeps for it, listing the lab's
 * pods its selector matches (none: a slice with no endpoints, as the controller writes it). Both are
 * computed from the same pods the agent's service maps were filled from.
 */
import { createHash } from 'node:crypto';
import type { LabPod } from '../state.js';
import { SERVICES, selectedPods, type PlannedService } from '../kernel/services.js';
import { stableUid, type KubeObject } from './objects.js';

/** The controller's generated name: the Service's name, `-`, five characters. */
function sliceName(service: PlannedService): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const h = createHash('sha256').update(`${service.namespace}/${service.name}`).digest();
  return `${service.name}-${[...h.subarray(0, 5)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

export function serviceObject(service: PlannedService, createdAt: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: service.name, namespace: service.namespace, uid: stableUid('service', service.namespace, service.name), creationTimestamp: createdAt },
    spec: {
      type: 'ClusterIP',
      clusterIP: service.clusterIP,
      clusterIPs: [service.clusterIP],
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      internalTrafficPolicy: 'Cluster',
      sessionAffinity: 'None',
      selector: service.selector,
      ports: service.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol, targetPort: p.targetPort })),
    },
    status: { loadBalancer: {} },
  };
}

export function endpointSliceObject(service: PlannedService, pods: LabPod[], createdAt: string): KubeObject {
  const backends = selectedPods(service, pods) as LabPod[];
  const slice: KubeObject & Record<string, unknown> = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: sliceName(service),
      generateName: `${service.name}-`,
      namespace: service.namespace,
      uid: stableUid('endpointslice', service.namespace, service.name),
      creationTimestamp: createdAt,
      labels: { 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io', 'kubernetes.io/service-name': service.name },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: service.name, uid: stableUid('service', service.namespace, service.name), controller: true, blockOwnerDeletion: true }],
    },
    addressType: 'IPv4',
    // The controller writes null (not []) for a slice of a Service whose selector matches nothing.
    endpoints: backends.length === 0 ? null : backends.map((p) => ({
      addresses: [p.ip],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: p.node,
      targetRef: { kind: 'Pod', namespace: p.namespace, name: p.name, uid: p.uid },
    })),
    ports: backends.length === 0 ? null : service.ports.map((p) => ({ name: p.name, port: p.targetPort, protocol: p.protocol })),
  };
  return slice;
}

/** Every Service and its EndpointSlice, for the store. */
export function serviceObjects(pods: LabPod[], createdAt: string): { services: KubeObject[]; slices: KubeObject[] } {
  return { services: SERVICES.map((s) => serviceObject(s, createdAt)), slices: SERVICES.map((s) => endpointSliceObject(s, pods, createdAt)) };
}
