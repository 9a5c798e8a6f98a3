/**
 * The lab's etcd: objects by resource, one resourceVersion counter for all of them, and a bounded
 * history of changes so a watch can resume from a list's resourceVersion (410 Expired when the
 * history no longer reaches back that far, as with etcd compaction).
 */
import type { KubeObject } from './objects.js';

export type Resource = 'pods' | 'nodes' | 'namespaces' | 'ciliumendpoints' | 'ciliumnetworkpolicies' | 'ciliumclusterwidenetworkpolicies' | 'networkpolicies' | 'services' | 'endpointslices' | 'events';
export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: EventType;
  resource: Resource;
  rv: number;
  object: KubeObject;
  /** The object before a MODIFIED change, so a selector-filtered watch can see it leave or enter. */
  previous?: KubeObject;
}

const HISTORY = 5000;

function key(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

export class ObjectStore {
  private rv = 0;
  private readonly objects = new Map<Resource, Map<string, KubeObject>>();
  private readonly history: StoreEvent[] = [];
  private readonly listeners = new Set<(event: StoreEvent) => void>();

  /** The current resourceVersion of the whole store (what a list returns). */
  get resourceVersion(): number {
    return this.rv;
  }

  private table(resource: Resource): Map<string, KubeObject> {
    let t = this.objects.get(resource);
    if (!t) this.objects.set(resource, (t = new Map()));
    return t;
  }

  /** Objects of a resource, in one namespace or all, sorted by namespace then name like etcd keys. */
  list(resource: Resource, namespace?: string): KubeObject[] {
    const out = [...this.table(resource).values()].filter((o) => namespace === undefined || o.metadata.namespace === namespace);
    return out.sort((a, b) => key(a.metadata.namespace, a.metadata.name).localeCompare(key(b.metadata.namespace, b.metadata.name)));
  }

  get(resource: Resource, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.table(resource).get(key(namespace, name));
  }

  /** Stores a copy of the object with the next resourceVersion and announces ADDED or MODIFIED. */
  put(resource: Resource, object: KubeObject): KubeObject {
    const stored = structuredClone(object);
    const k = key(stored.metadata.namespace, stored.metadata.name);
    const previous = this.table(resource).get(k);
    stored.metadata.resourceVersion = String(++this.rv);
    this.table(resource).set(k, stored);
    this.emit({ type: previous ? 'MODIFIED' : 'ADDED', resource, rv: this.rv, object: stored, previous });
    return stored;
  }

  /** Applies a change to a copy of the stored object; returns undefined when it no longer exists. */
  update(resource: Resource, namespace: string | undefined, name: string, change: (o: KubeObject) => void): KubeObject | undefined {
    const current = this.get(resource, namespace, name);
    if (!current) return undefined;
    const next = structuredClone(current);
    change(next);
    return this.put(resource, next);
  }

  /** Removes an object and announces DELETED with its last state under a new resourceVersion. */
  remove(resource: Resource, namespace: string | undefined, name: string, last?: (o: KubeObject) => void): KubeObject | undefined {
    const k = key(namespace, name);
    const current = this.table(resource).get(k);
    if (!current) return undefined;
    this.table(resource).delete(k);
    const gone = structuredClone(current);
    last?.(gone);
    gone.metadata.resourceVersion = String(++this.rv);
    this.emit({ type: 'DELETED', resource, rv: this.rv, object: gone });
    return gone;
  }

  /** Changes after a resourceVersion, or 'expired' when the history was trimmed past it. */
  eventsSince(rv: number): StoreEvent[] | 'expired' {
    const oldest = this.history[0];
    if (oldest !== undefined && rv < oldest.rv - 1) return 'expired';
    if (oldest === undefined && rv < this.rv) return 'expired';
    return this.history.filter((e) => e.rv > rv);
  }

  /** Oldest resourceVersion a watch can still start from (for the 410 message). */
  get oldestWatchable(): number {
    return (this.history[0]?.rv ?? this.rv + 1) - 1;
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: StoreEvent): void {
    this.history.push(event);
    if (this.history.length > HISTORY) this.history.splice(0, this.history.length - HISTORY);
    for (const l of [...this.listeners]) l(event);
  }
}
