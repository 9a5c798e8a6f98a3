/** A Cilium network policy rule as the agent prints it (`cilium policy get`, api/v1 policy Rule JSON). */
export interface PolicyRuleFact {
  /** From the rule's k8s labels (`io.cilium.k8s.policy.name` / `.namespace`). */
  name?: string;
  namespace?: string;
  /** The endpointSelector's matchLabels (`any:org` = `empire`). */
  selector: Record<string, string>;
  ingress: PolicyPeerRule[];
  egress: PolicyPeerRule[];
  ingressDeny: PolicyPeerRule[];
  egressDeny: PolicyPeerRule[];
  /** The rule's labels, `source:key=value`. */
  labels: string[];
  /** The endpointSelector's matchExpressions (absent when none). */
  selectorExpressions?: LabelRequirement[];
  /** Where the rule was read: a Kubernetes object (its kind) or, when absent, the agent's `policy get`. */
  kind?: 'CiliumNetworkPolicy' | 'CiliumClusterwideNetworkPolicy' | 'NetworkPolicy';
  /**
   * The directions this rule selects its endpoints in, when the object says it (NetworkPolicy
   * policyTypes); otherwise a direction is selected when the rule has allow or deny sections for it.
   */
  directions?: ('ingress' | 'egress')[];
  /** Parts of the rule this tool does not evaluate (a manifest's missing namespace, toServices, ...): where they matter, the answer is unknown. */
  unsupported?: string[];
}

/** One ingress/egress section: the peers it names and the ports (and L7 rules) it allows or denies. */
export interface PolicyPeerRule {
  /** fromEndpoints / toEndpoints matchLabels, one map per selector; an empty map selects every endpoint. */
  endpoints: Record<string, string>[];
  /** fromCIDR / toCIDR and the cidr of fromCIDRSet / toCIDRSet. */
  cidrs: string[];
  /** fromEntities / toEntities (world, cluster, host, ...). */
  entities: string[];
  /** toFQDNs matchName / matchPattern. */
  fqdns: string[];
  ports: { port: string; protocol: string }[];
  /** L7 rule kinds under toPorts[].rules (http, dns, kafka, l7proto). */
  l7: string[];
  /** The matchExpressions of each selector in `endpoints`, by the same index (absent when none has any). */
  endpointExpressions?: LabelRequirement[][];
  /** NetworkPolicy ipBlock `except`: addresses the cidrs do not cover. */
  cidrExcept?: string[];
  /** Parts of this section this tool does not evaluate: a peer or port it cannot match is unknown. */
  unsupported?: string[];
}

export interface PolicyState {
  rules: PolicyRuleFact[];
  /** `Revision: N`, the agent's policy revision when the rules were printed. */
  revision?: number;
}

/** How a note in PolicyRuleFact.unsupported about the rule's own selector starts (no namespace in the object): whether it selects an endpoint is then unknown. */
export const SELECTOR_NOTE = 'endpointSelector';

/** One matchExpressions entry of a label selector: In, NotIn, Exists, DoesNotExist (metav1.LabelSelectorRequirement). */
export interface LabelRequirement {
  key: string;
  operator: string;
  values: string[];
}
