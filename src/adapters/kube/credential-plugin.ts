/**
 * A kubeconfig user's exec credential plugin (`users[].user.exec`: a cloud CLI, a login helper)
 * runs before the request it authenticates, outside the request's own bound: client-node spawns it
 * and waits for it with no limit, so one that never answers (waiting for a browser login nobody
 * opens, a hung cloud CLI) would hang every command. This bounds it like the request: killed after
 * the timeout or when the command is interrupted, its failure saying so in one line.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import type { KubeConfig } from '@kubernetes/client-node';

type SpawnFn = (command: string, args: readonly string[] | undefined, options: SpawnOptions) => ChildProcess;

/** client-node's ExecAuth, as far as this needs it (it is not exported: found among kc's authenticators by its spawn function). */
interface ExecAuthLike {
  execFn: SpawnFn;
  getCredential: unknown;
  boundedByDatapath?: true;
}

function isExecAuth(a: unknown): a is ExecAuthLike {
  return a !== null && typeof a === 'object' && typeof (a as ExecAuthLike).execFn === 'function' && typeof (a as ExecAuthLike).getCredential === 'function';
}

/** boundCredentialPlugin makes kc's exec credential plugin end within timeoutMs (0: no limit) or at the signal; once per kc. */
export function boundCredentialPlugin(kc: KubeConfig, timeoutMs: number, signal?: AbortSignal): void {
  const authenticators = (kc as unknown as { authenticators?: unknown[] }).authenticators ?? [];
  for (const auth of authenticators) {
    if (!isExecAuth(auth) || auth.boundedByDatapath) continue;
    auth.boundedByDatapath = true;
    // client-node caches only a credential it got: after one plugin run gave none in time, the
    // next requests of this command would each wait as long again, so they give up at once.
    let gaveUp: string | undefined;
    /** The runs not ended yet, for the one abort listener (one per request would pile up on the shared signal). */
    const running = new Set<(why: string) => void>();
    signal?.addEventListener('abort', () => running.forEach((end) => end('was interrupted')), { once: true });
    auth.execFn = (command, args, options) => {
      const child = spawn(command, args ?? [], options);
      const giveUp = (why: string): void => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        // client-node rejects with the plugin's stderr: this line becomes the request's error.
        child.stderr?.emit('data', `the exec credential plugin "${command}" of the kubeconfig ${why}: run it by hand to see what it waits for (a login?)`);
        child.kill('SIGKILL');
      };
      const late = `gave no credential within ${timeoutMs / 1000}s (--request-timeout)`;
      const timer = timeoutMs > 0 ? setTimeout(() => giveUp((gaveUp = late)), gaveUp === undefined ? timeoutMs : 0) : undefined;
      timer?.unref();
      running.add(giveUp);
      if (signal?.aborted) giveUp('was interrupted');
      child.once('close', () => {
        clearTimeout(timer);
        running.delete(giveUp);
      });
      return child;
    };
  }
}
