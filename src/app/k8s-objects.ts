import { LineCounter, isMap, isSeq, parseAllDocuments, type Node } from 'yaml';
import { isPrompt } from '../core/analyze/detect.js';
import type { DataResult } from '../core/analyze/formats.js';
import { parseK8sPolicies, type K8sObjectItem } from '../core/parse/k8s-policy.js';

/**
 * Kubernetes objects from saved `kubectl get -o yaml|json` output or a manifest (YAML is a superset
 * of JSON, so one reader does both), each with the line it starts on: a List's items one by one,
 * every `---` document. `#` lines are YAML comments; shell prompts of a pasted transcript become
 * blank lines. Never throws: a document YAML cannot read is the error.
 */
export function k8sObjectItems(text: string): { items: K8sObjectItem[]; error?: string } {
  const clean = text
    .split('\n')
    .map((l) => (isPrompt(l.trimStart()) ? '' : l))
    .join('\n');
  const lineCounter = new LineCounter();
  let docs;
  try {
    docs = parseAllDocuments(clean, { lineCounter });
  } catch (e) {
    return { items: [], error: `not YAML or JSON: ${(e as Error).message.split('\n')[0]}` };
  }
  const items: K8sObjectItem[] = [];
  const lineOf = (n: Node | null | undefined) => (n?.range ? lineCounter.linePos(n.range[0]).line : 1);
  for (const doc of Array.isArray(docs) ? docs : []) {
    if (doc.errors.length) return { items, error: `not YAML or JSON: ${doc.errors[0].message.split('\n')[0]}` };
    const top = doc.contents;
    if (!top) continue;
    const list = isMap(top) && /List$/.test(String(top.get('kind') ?? '')) ? top.get('items', true) : undefined;
    if (isSeq(list)) {
      for (const item of list.items) items.push({ line: lineOf(item as Node), value: (item as Node).toJSON() });
    } else items.push({ line: lineOf(top), value: top.toJSON() });
  }
  return { items };
}

/** The analyze input of saved policy objects: rules, and one counted line per object not understood. */
export function k8sPolicyInput(text: string): DataResult {
  const nonEmpty = text.split('\n').filter((l) => l.trim() !== '').length;
  const { items, error } = k8sObjectItems(text);
  const r = parseK8sPolicies(items);
  const unparsed = r.unparsed;
  return {
    lines: nonEmpty,
    understood: Math.max(0, nonEmpty - unparsed.length - (error ? 1 : 0)),
    unparsed,
    ...(r.rules.length ? { policy: { rules: r.rules } } : {}),
    ...(error ? { error } : !r.rules.length ? { error: 'no network policy object found' } : {}),
  };
}
