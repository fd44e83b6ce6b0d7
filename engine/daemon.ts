import { chmod, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { removeGroupAndOtherAccess } from './fs.ts';
import { DaemonMetrics } from './api/prometheus.ts';
import { startApiServer } from './api/server.ts';
import { ensureToken } from './api/token.ts';
import { AccessControl } from './auth/access.ts';
import { loadConfig } from './config/load.ts';
import type { DaemonConfig } from './config/types.ts';
import { Controller, type ControllerObserver } from './controller/controller.ts';
import { acquireDaemonLock } from './daemon-lock.ts';
import { asPlumblineError } from './errors.ts';
import { processCounts } from './exec.ts';
import { IdleCollector } from './idle-memory.ts';
import { createLogger, type Logger } from './log.ts';
import { statePaths, type StatePaths } from './paths.ts';
import { buildProviders } from './providers.ts';
import { redactUrl, GitSource } from './source/git-source.ts';
import { Notifier } from './notify/notifier.ts';
import { openStore } from './store/open.ts';
import { startSandbox } from './sandbox/launch.ts';
import { createUi } from './ui/ui.ts';
import { sandboxSettings } from './sandbox/run-sandbox.ts';
import { startForgeReporting } from './forge/start.ts';
import type { PreviewListener } from './previews/types.ts';
import type { Provider } from './provider.ts';

/** `plumbline daemon --config FILE`: runs until SIGTERM or SIGINT, then exits 0. */
export async function runDaemon(configFile: string): Promise<number> {
  const config = await loadConfig(configFile);
  return runDaemonWith(config);
}

export interface DaemonOptions {
  onReady?: (info: { url: string; tokenFile: string }) => void;
  /** Told of every change of a merge-request preview (the forge reporting); none by default. */
  previewListener?: PreviewListener;
}

export async function runDaemonWith(config: DaemonConfig, options: DaemonOptions = {}): Promise<number> {
  const log = createLogger({ level: config.log.level });
  try {
    // Signals are handled before any run can start, so none is ever cut off by one.
    const signalled = waitForSignal(log);
    process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unexpected error (the daemon goes on)'));
    const stopped = await startDaemon(config, log, options);
    options.onReady?.({ url: stopped.url, tokenFile: config.api.tokenFile });
    await signalled;
    await stopped.stop();
    return 0;
  } catch (error) {
    const typed = asPlumblineError(error);
    log.fatal({ code: typed.code, hint: typed.hint, err: typed }, 'daemon failed');
    return 1;
  }
}

async function startDaemon(config: DaemonConfig, log: Logger, options: DaemonOptions): Promise<{ url: string; stop(): Promise<void> }> {
  const paths = statePaths(config.stateDir);
  // Everything the daemon and its tools write is private to its user: plan
  // files, Terraform state and outputs hold secrets in clear.
  process.umask(0o077);
  await mkdir(config.stateDir, { recursive: true, mode: 0o700 });
  await chmod(config.stateDir, 0o700);
  const release = await acquireDaemonLock(paths.lockFile);
  try {
    return await startUnderLock(config, log, paths, release, options);
  } catch (error) {
    await release();
    throw error;
  }
}

/**
 * A state directory from an older version may hold readable files (Terraform
 * wrote its state 0644): fix them once at start. Commit snapshots are left out
 * (repository code, many files, and written private from now on); the 0700
 * state directory closes them to others anyway.
 */
async function makePrivate(stateDir: string, log: Logger): Promise<void> {
  let changed = 0;
  for (const entry of await readdir(stateDir)) {
    if (entry !== 'snapshots') changed += await removeGroupAndOtherAccess(join(stateDir, entry));
  }
  if (changed > 0) log.info({ changed }, 'state directory made private: group and other access removed');
}

async function startUnderLock(config: DaemonConfig, log: Logger, paths: StatePaths, release: () => Promise<void>, options: DaemonOptions): Promise<{ url: string; stop(): Promise<void> }> {
  await makePrivate(config.stateDir, log);
  const store = await openStore(config, log);
  const notifier = new Notifier(config.notifications ?? [], log.child({ component: 'notify' }));
  const metrics = new DaemonMetrics({ store, processCounts, requireToken: config.metrics?.requireToken ?? false });
  // Tool runs are not sandboxed yet: the sandbox setting will drive this.
  metrics.setSandboxEnabled(false);
  const forge = config.forge
    ? await startForgeReporting(config.forge, {
        log,
        uiBase: () => config.api.publicUrl ?? api.url,
        planPurpose: async (id) => (await store.getPlan(id))?.purpose,
        pollNow: () => void controller.pollNow().catch((error) => log.warn({ err: asPlumblineError(error) }, 'poll after a webhook failed')),
      })
    : undefined;
  store.onHistory = (event) => {
    metrics.history(event);
    notifier.fromHistory(event);
    forge?.reporter.historyEvent(event);
  };
  const source = new GitSource({
    url: config.source.url,
    branch: config.source.branch,
    mirrorDir: paths.mirror,
    snapshotsDir: paths.snapshots,
    log,
    ...(config.source.previews ? { previewRefs: config.source.previews.refs } : {}),
  });
  // The providers are built once the API listens (below): building one loads its tool's code,
  // which no answer of the API needs. Runs, the only users of a built provider, begin with
  // controller.recover(), after the map is filled.
  const providers = new Map<string, Provider>();
  const previewListener = bothListeners(options.previewListener, forge?.reporter);
  const idle = new IdleCollector();
  const controller = new Controller({ config, store, source, providers, paths, log, observer: alsoTold(metrics, idle), ...(previewListener ? { previewListener } : {}) });
  // The API first: if it cannot listen, nothing has been started yet.
  const access = new AccessControl(store, await ensureToken(config.api.tokenFile));
  // The client secret is read now (a bad secret file stops the start); the provider is discovered in the background.
  // The OpenID client library loads only when a login is configured.
  // The base URL is asked for at each login, once the API listens (its port may have been 0).
  const oidc = config.auth?.oidc
    ? await (await import('./ui/oidc/index.ts')).createOidcLogin(config.auth.oidc, { baseUrl: () => config.api.publicUrl ?? api.url, log: log.child({ component: 'oidc' }) })
    : undefined;
  const ui = createUi({
    facade: controller,
    access,
    log: log.child({ component: 'ui' }),
    ...(oidc ? { oidc: true, extraRoutes: oidc } : {}),
    outputs: (unit) => store.getOutputs(unit),
    dependsOn: (unit) => controller.definition(unit)?.dependsOn ?? [],
  });
  const api = await startApiServer(controller, {
    host: config.api.host,
    port: config.api.port,
    access,
    metrics,
    ui,
    log: log.child({ component: 'api' }),
    ...(forge?.gitHook ? { gitHook: forge.gitHook } : {}),
  });
  try {
    // Whether tools run sandboxed is said (or the start refused) before anything can run a tool
    // (controller.start below). Probing runs bwrap (unless an earlier start's result is remembered):
    // it goes on while the providers are built.
    const sandbox = startSandbox(sandboxSettings(config).mode, log, paths.sandboxProbe);
    sandbox.catch(() => undefined);
    for (const [kind, provider] of await buildProviders(config, log)) providers.set(kind, provider);
    await sandbox;
    await controller.recover();
    await controller.start();
  } catch (error) {
    // The API listens already: close it and the store, or the failed daemon would never exit.
    await api.close();
    oidc?.close();
    await store.close();
    throw error;
  }
  log.info(
    { url: api.url, source: redactUrl(config.source.url), branch: config.source.branch, stateDir: config.stateDir, store: store.location, concurrency: config.concurrency },
    'daemon started',
  );
  return {
    url: api.url,
    async stop() {
      log.info({}, 'daemon stopping: waiting for running applies');
      // No more approvals or syncs once stopping has begun.
      await api.close();
      oidc?.close();
      await controller.stop();
      idle.stop();
      await notifier.drain();
      await forge?.reporter.drain();
      await store.close();
      await release();
      log.info({}, 'daemon stopped');
    },
  };
}

/** The metrics hear of runs and polls, and so does the collector that gives memory back once they stop. */
function alsoTold(metrics: ControllerObserver, idle: IdleCollector): ControllerObserver {
  return {
    fetched: (ok) => (metrics.fetched(ok), idle.polled()),
    runStarted: (run) => (metrics.runStarted(run), idle.runStarted()),
    runFinished: (run) => (metrics.runFinished(run), idle.runFinished()),
  };
}

/** The forge reporting and a listener the caller passed both hear of previews. */
function bothListeners(a: PreviewListener | undefined, b: PreviewListener | undefined): PreviewListener | undefined {
  if (!a || !b) return a ?? b;
  return {
    previewUpdated: (preview) => (a.previewUpdated(preview), b.previewUpdated(preview)),
    previewRemoved: (ref, revision) => (a.previewRemoved(ref, revision), b.previewRemoved(ref, revision)),
  };
}

/**
 * Resolve on the first SIGTERM or SIGINT. The handlers stay installed for the
 * life of the process: if none were left, the subprocess library's exit hook
 * would treat a second signal as fatal, kill the running terraform apply and
 * re-raise the signal, which is exactly what a graceful stop must not do.
 */
function waitForSignal(log: Logger): Promise<void> {
  return new Promise((resolve) => {
    let received = false;
    const onSignal = (signal: NodeJS.Signals) => {
      log.info({ signal, again: received }, received ? 'signal received again: still waiting for running applies' : 'signal received');
      received = true;
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
