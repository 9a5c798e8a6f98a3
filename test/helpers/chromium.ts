import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

/** What a page did while it was open: every request it made, and everything that went wrong. */
export interface PageLog {
  requests: string[];
  problems: string[];
  dialogs: string[];
}

/** A page of headless Chromium, driven over the DevTools protocol. */
export interface BrowserPage {
  log: PageLog;
  /** open loads a URL and waits for its load event. */
  open(url: string): Promise<void>;
  /** evaluate runs an expression in the page and returns its value (JSON). */
  evaluate<T>(expression: string): Promise<T>;
  /** screenshot of the whole page, or of the element `selector` names, PNG. */
  screenshot(selector?: string): Promise<Buffer>;
  /** darkMode makes `prefers-color-scheme` say dark (or light). */
  colorScheme(scheme: 'light' | 'dark'): Promise<void>;
}

/** The flags that keep Chromium from talking to anything on its own (updates, sync, QUIC probes). */
export const QUIET_CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--hide-scrollbars', '--mute-audio', '--disable-extensions',
];

/**
 * withChromium starts Debian's headless Chromium with a fresh profile, opens one page with the
 * network emulated offline, runs `body`, and always stops the browser and removes its profile.
 */
export async function withChromium<T>(body: (page: BrowserPage) => Promise<T>, width = 1400, height = 1000): Promise<T> {
  const profile = mkdtempSync(join(tmpdir(), 'datapath-chromium-'));
  const proc = spawn('chromium', [...QUIET_CHROMIUM_FLAGS, `--user-data-dir=${profile}`, `--window-size=${width},${height}`, '--remote-debugging-port=0', 'about:blank'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // A process group of its own: the browser's helper processes (renderer, GPU, crashpad) are
    // ended with it, so none still writes to the profile when it is removed.
    detached: true,
  });
  try {
    const endpoint = await devtoolsEndpoint(proc);
    const cdp = await connect(endpoint);
    try {
      const { targetId } = await cdp.send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
      const { sessionId } = await cdp.send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
      const log: PageLog = { requests: [], problems: [], dialogs: [] };
      const loads: (() => void)[] = [];
      cdp.listen((method, params, session) => {
        if (session !== sessionId) return;
        const p = params as Record<string, any>;
        if (method === 'Network.requestWillBeSent') log.requests.push(p.request.url);
        else if (method === 'Runtime.exceptionThrown') log.problems.push(`exception: ${p.exceptionDetails?.exception?.description ?? p.exceptionDetails?.text}`);
        else if (method === 'Runtime.consoleAPICalled' && ['error', 'warning', 'assert'].includes(p.type)) log.problems.push(`console.${p.type}: ${JSON.stringify(p.args)}`);
        else if (method === 'Log.entryAdded' && ['error', 'warning'].includes(p.entry.level)) log.problems.push(`${p.entry.source} ${p.entry.level}: ${p.entry.text}`);
        else if (method === 'Page.javascriptDialogOpening') {
          log.dialogs.push(p.message);
          void cdp.send('Page.handleJavaScriptDialog', { accept: true }, sessionId);
        } else if (method === 'Page.loadEventFired') loads.splice(0).forEach((f) => f());
      });
      for (const domain of ['Page', 'Runtime', 'Log', 'Network']) await cdp.send(`${domain}.enable`, {}, sessionId);
      await cdp.send('Network.emulateNetworkConditions', { offline: true, latency: 0, downloadThroughput: -1, uploadThroughput: -1 }, sessionId);
      const page: BrowserPage = {
        log,
        async open(url) {
          const loaded = new Promise<void>((resolve) => loads.push(resolve));
          const nav = await cdp.send<{ errorText?: string }>('Page.navigate', { url }, sessionId);
          if (nav.errorText) throw new Error(`chromium could not open ${url}: ${nav.errorText}`);
          await loaded;
        },
        async evaluate<R>(expression: string) {
          const r = await cdp.send<{ result: { value: R }; exceptionDetails?: { text: string; exception?: { description?: string } } }>(
            'Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }, sessionId);
          if (r.exceptionDetails) throw new Error(`evaluate failed: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
          return r.result.value;
        },
        async screenshot(selector) {
          const clip = selector === undefined ? undefined : await page.evaluate<{ x: number; y: number; width: number; height: number }>(
            `(() => { const r = document.querySelector(${JSON.stringify(selector)}).getBoundingClientRect(); return { x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height }; })()`);
          const r = await cdp.send<{ data: string }>('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true, ...(clip && { clip: { ...clip, scale: 1 } }) }, sessionId);
          return Buffer.from(r.data, 'base64');
        },
        async colorScheme(scheme) {
          await cdp.send('Emulation.setEmulatedMedia', { features: [{ name: 'prefers-color-scheme', value: scheme }] }, sessionId);
        },
      };
      return await body(page);
    } finally {
      await cdp.send('Browser.close').catch(() => undefined);
      cdp.close();
    }
  } finally {
    if (proc.exitCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 3000)))]);
      clearTimeout(timer);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
    try {
      process.kill(-proc.pid!, 'SIGKILL');
    } catch {
      // the group is gone already
    }
    proc.stderr?.destroy();
    // Chromium's helper processes may still write to the profile for a moment after the browser
    // process exits (ENOTEMPTY seen in CI): rmSync retries those errors with a growing delay.
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}

/** The browser's DevTools WebSocket, which Chromium prints on stderr once it listens. */
function devtoolsEndpoint(proc: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let err = '';
    // Chromium starts in about a second, far slower when the machine's CPUs are busy with other tests.
    const timer = setTimeout(() => reject(new Error(`chromium printed no DevTools endpoint in 60 s: ${err.slice(-400)}`)), 60_000);
    proc.stderr!.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`chromium exited (${code}) before listening: ${err.slice(-400)}`));
    });
  });
}

interface Cdp {
  send<T = unknown>(method: string, params?: object, sessionId?: string): Promise<T>;
  listen(handler: (method: string, params: unknown, sessionId: string | undefined) => void): void;
  close(): void;
}

async function connect(url: string): Promise<Cdp> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let next = 0;
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  const handlers: ((method: string, params: unknown, sessionId: string | undefined) => void)[] = [];
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: unknown; sessionId?: string };
    if (msg.id !== undefined) {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(msg.error.message));
      else p?.resolve(msg.result);
    } else if (msg.method) {
      for (const h of handlers) h(msg.method, msg.params, msg.sessionId);
    }
  });
  ws.on('close', () => {
    for (const p of pending.values()) p.reject(new Error('DevTools connection closed'));
    pending.clear();
  });
  return {
    send(method, params = {}, sessionId) {
      const id = ++next;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        ws.send(JSON.stringify({ id, method, params, ...(sessionId && { sessionId }) }));
      });
    },
    listen(handler) {
      handlers.push(handler);
    },
    close() {
      ws.terminate();
    },
  };
}
