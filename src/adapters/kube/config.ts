/**
 * Kubeconfig loading with kubectl's rules (client-go clientcmd): `--kubeconfig FILE`, else the
 * KUBECONFIG list (first file to set current-context wins, first definition of a name wins,
 * missing files skipped), else ~/.kube/config, else in-cluster; then `--context` and the namespace.
 * client-node's own merge differs (last current-context wins, duplicate names throw), so the
 * merge is done here.
 */
import { KubeConfig, type Cluster, type Context, type User } from '@kubernetes/client-node';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { DatapathError, EXIT, UsageError } from '../../core/errors.js';

/** KubeFlags: the kubectl flags the plugin parses itself. */
export interface KubeFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** LoadedKubeConfig: a ready client config and what was chosen. */
export interface LoadedKubeConfig {
  kc: KubeConfig;
  context: string;
  namespace: string;
  /** API server URL of the context's cluster. */
  server: string;
  /** Where it came from: the file paths read, or `in-cluster`. */
  sources: string[];
}

/** Where to look; tests point these at temporary files. */
export interface KubeConfigEnv {
  env: NodeJS.ProcessEnv;
  home: string;
  /** Prefix of /var/run/secrets/kubernetes.io/serviceaccount (client-node's loadFromCluster pathPrefix). */
  inClusterRoot: string;
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

function defaultEnv(): KubeConfigEnv {
  return { env: process.env, home: homedir(), inClusterRoot: '' };
}

interface YamlishError {
  name?: string;
  reason?: string;
  mark?: { line: number; column: number };
  message?: string;
}

/** Reads one kubeconfig file into its own KubeConfig, with one-line errors. */
function readFile(path: string): KubeConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES') throw new DatapathError(`cannot read kubeconfig ${path}: permission denied`, EXIT.error);
    if (code === 'EISDIR') throw new UsageError(`kubeconfig ${path} is a directory, not a file`);
    throw new DatapathError(`cannot read kubeconfig ${path}: ${(e as Error).message}`, EXIT.error);
  }
  const kc = new KubeConfig();
  // An empty file (or only comments) is an empty config for kubectl; js-yaml returns undefined for it.
  if (onlyComments(text)) {
    kc.loadFromOptions({ clusters: [], users: [], contexts: [], currentContext: '' });
    return kc;
  }
  try {
    kc.loadFromString(text);
  } catch (e) {
    const y = e as YamlishError;
    if (y.name === 'YAMLException') {
      const where = y.mark ? ` at line ${y.mark.line + 1}, column ${y.mark.column + 1}` : '';
      throw new DatapathError(`kubeconfig ${path} is not valid YAML${where}: ${y.reason ?? 'syntax error'}`, EXIT.error);
    }
    // client-node validates entries: "clusters[0].cluster.server is missing", "users[1].name is missing".
    throw new DatapathError(`kubeconfig ${path} is not a valid kubeconfig: ${(y.message ?? String(e)).split('\n')[0]}`, EXIT.error);
  }
  if (kc.clusters.length === 0 && kc.contexts.length === 0 && kc.users.length === 0 && !kc.currentContext) {
    throw new DatapathError(`kubeconfig ${path} is not a kubeconfig: it has no clusters, users, contexts or current-context`, EXIT.error);
  }
  kc.makePathsAbsolute(dirname(path));
  return kc;
}

function onlyComments(text: string): boolean {
  return text.split('\n').every((line) => {
    const t = line.trim();
    return t === '' || t.startsWith('#');
  });
}

/** Merges files the way clientcmd does: first current-context set wins, first definition of each name wins. */
function mergeFiles(configs: KubeConfig[]): KubeConfig {
  const clusters: Cluster[] = [];
  const users: User[] = [];
  const contexts: Context[] = [];
  let currentContext = '';
  const add = <T extends { name: string }>(into: T[], items: T[] | undefined): void => {
    for (const item of items ?? []) if (!into.some((x) => x.name === item.name)) into.push(item);
  };
  for (const c of configs) {
    if (!currentContext && c.currentContext) currentContext = c.currentContext;
    add(clusters, c.clusters);
    add(users, c.users);
    add(contexts, c.contexts);
  }
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters, users, contexts, currentContext });
  return kc;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The config before --context: from --kubeconfig, KUBECONFIG, ~/.kube/config or in-cluster. */
function loadSources(flags: KubeFlags, where: KubeConfigEnv): { kc: KubeConfig; sources: string[] } {
  if (flags.kubeconfig !== undefined) {
    if (!existsSync(flags.kubeconfig)) throw new UsageError(`--kubeconfig ${flags.kubeconfig}: no such file`);
    return { kc: readFile(flags.kubeconfig), sources: [flags.kubeconfig] };
  }
  const list = where.env.KUBECONFIG;
  if (list !== undefined && list !== '') {
    const paths = list.split(delimiter).filter((p) => p !== '');
    // clientcmd skips entries that do not exist; it fails only when none is left.
    const present = paths.filter(isFile);
    if (present.length === 0) {
      throw new DatapathError(`no kubeconfig found: KUBECONFIG names ${paths.join(', ')}, and none of them exists`, EXIT.error);
    }
    const kc = present.length === 1 ? readFile(present[0]) : mergeFiles(present.map(readFile));
    return { kc, sources: present };
  }
  const home = join(where.home, '.kube', 'config');
  if (isFile(home)) return { kc: readFile(home), sources: [home] };
  const tokenFile = `${where.inClusterRoot}${SERVICE_ACCOUNT}/token`;
  const host = where.env.KUBERNETES_SERVICE_HOST;
  if (host && existsSync(tokenFile)) return { kc: inCluster(host, where.env.KUBERNETES_SERVICE_PORT ?? '443', `${where.inClusterRoot}${SERVICE_ACCOUNT}`), sources: ['in-cluster'] };
  throw new DatapathError(`no kubeconfig found: set KUBECONFIG, pass --kubeconfig FILE, or create ${home}`, EXIT.error);
}

/** The service account config client-node's loadFromCluster builds, from the given environment rather than process.env. */
function inCluster(host: string, port: string, accountDir: string): KubeConfig {
  const kc = new KubeConfig();
  const namespaceFile = `${accountDir}/namespace`;
  const namespace = isFile(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : undefined;
  kc.loadFromOptions({
    clusters: [{ name: 'inCluster', server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`, caFile: `${accountDir}/ca.crt`, skipTLSVerify: false }],
    // tokenFile re-reads the projected token, which the kubelet rotates.
    users: [{ name: 'inClusterUser', authProvider: { name: 'tokenFile', config: { tokenFile: `${accountDir}/token` } } }],
    contexts: [{ name: 'inClusterContext', cluster: 'inCluster', user: 'inClusterUser', namespace }],
    currentContext: 'inClusterContext',
  });
  return kc;
}

function listContexts(kc: KubeConfig): string {
  const names = kc.contexts.map((c) => c.name);
  return names.length === 0 ? 'it defines no contexts' : `contexts: ${names.join(', ')}`;
}

/**
 * loadKubeConfig resolves the kubeconfig, context and namespace like kubectl, failing with one
 * line for a missing file, bad YAML, an unknown context or a context without cluster/user.
 */
export function loadKubeConfig(flags: KubeFlags, where: KubeConfigEnv = defaultEnv()): LoadedKubeConfig {
  const { kc, sources } = loadSources(flags, where);
  const from = sources.join(', ');
  const contextName = flags.context ?? kc.currentContext;
  if (!contextName) throw new UsageError(`kubeconfig ${from} sets no current-context: pass --context (${listContexts(kc)})`);
  const context = kc.getContextObject(contextName);
  if (context === null) {
    const flag = flags.context !== undefined ? '--context ' : 'current-context ';
    throw new UsageError(`${flag}"${contextName}" does not exist in kubeconfig ${from} (${listContexts(kc)})`);
  }
  kc.setCurrentContext(contextName);
  const cluster = kc.getCluster(context.cluster);
  if (cluster === null) throw new DatapathError(`context "${contextName}" names cluster "${context.cluster}", which kubeconfig ${from} does not define`, EXIT.error);
  if (context.user && kc.getUser(context.user) === null) {
    throw new DatapathError(`context "${contextName}" names user "${context.user}", which kubeconfig ${from} does not define`, EXIT.error);
  }
  const namespace = flags.namespace ?? context.namespace?.trim() ?? '';
  return { kc, context: contextName, namespace: namespace === '' ? 'default' : namespace, server: cluster.server, sources };
}
