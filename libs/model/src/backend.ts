import { dirname, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { StreamtrainError } from '@streamtrain/contracts';
import type { ModelLogger } from './logger';

/** A TensorFlow.js backend this package can run on, under its tfjs registry name. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/** Which backend to run on; `'auto'` takes the fastest that initialises. */
export type BackendPreference = 'auto' | BackendName;

/** Options of {@link loadBackend}. */
export interface LoadBackendOptions {
  /**
   * `'auto'` tries `tensorflow` (the native `@tensorflow/tfjs-node` binding), then `wasm`, then
   * `cpu`. An explicit name uses that backend or throws.
   * @default 'auto'
   */
  preferred?: BackendPreference;
  /** Receives which backend was chosen and why the others were not. */
  logger?: ModelLogger;
}

/** The backend now active, and the tfjs namespace the model code runs on. */
export interface LoadedBackend {
  readonly backend: BackendName;
  readonly tf: typeof tf;
}

/** Fastest first: native TensorFlow, then WebAssembly (SIMD, single-threaded in Node), then JS. */
const AUTO_ORDER: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

// An optional accelerator that is absent wherever its native install failed. Held in a variable so
// the compiler does not try to resolve it, and loaded through `import()` so that, when present, it
// registers its backend with the same @tensorflow/tfjs-core instance this package uses.
const TFJS_NODE_PACKAGE: string = '@tensorflow/tfjs-node';

const selections = new Map<BackendPreference, Promise<LoadedBackend>>();
let active: BackendName | undefined;
// @tensorflow/tfjs registers the cpu backend itself when it is imported.
const registered = new Set<BackendName>(['cpu']);

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // require() says MODULE_NOT_FOUND; import() says ERR_MODULE_NOT_FOUND.
  return code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND';
}

async function registerBackend(name: BackendName): Promise<void> {
  if (name === 'tensorflow') {
    await import(TFJS_NODE_PACKAGE);
    if (tf.findBackendFactory('tensorflow') === null) {
      throw new Error(
        `${TFJS_NODE_PACKAGE} loaded but registered its backend with another copy of ` +
          '@tensorflow/tfjs-core; install the same version as @tensorflow/tfjs',
      );
    }
  } else if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // The .wasm binaries ship in the package's dist directory, next to its Node entry point; tfjs
    // asks Node users to name that directory rather than rely on where emscripten guesses.
    wasm.setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + sep);
  }
}

async function activate(name: BackendName): Promise<void> {
  // Register each backend once: setWasmPaths refuses to run after a wasm init was attempted, and
  // tf.findBackend cannot be used to ask, because it starts initialising a registered backend.
  if (!registered.has(name)) {
    await registerBackend(name);
    registered.add(name);
  }
  if (!(await tf.setBackend(name))) {
    throw new Error(`tf.setBackend('${name}') could not initialise the backend`);
  }
  await tf.ready();
  // A backend can initialise yet lack working kernels (e.g. a truncated .wasm file); one small
  // op catches that here rather than in the first training call.
  const sum = tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)).dataSync()[0]);
  if (sum !== 3) throw new Error(`backend '${name}' computed 1 + 2 = ${sum}`);
}

async function select(
  preferred: BackendPreference,
  logger: ModelLogger | undefined,
): Promise<LoadedBackend> {
  // tfjs writes its own advice (e.g. "install tfjs-node") to console.warn; production mode turns
  // that off, and the choice is logged below through the service's logger instead.
  tf.enableProdMode();
  const candidates = preferred === 'auto' ? AUTO_ORDER : [preferred];
  const unavailable: { backend: BackendName; reason: string }[] = [];
  let lastError: unknown;
  for (const name of candidates) {
    try {
      await activate(name);
      logger?.info({ backend: name, preferred, unavailable }, 'model backend selected');
      return { backend: name, tf };
    } catch (error) {
      lastError = error;
      unavailable.push({ backend: name, reason: reasonOf(error) });
      // A missing optional accelerator is the expected state on many hosts; anything else means a
      // backend that is installed but broken, which someone should look at.
      const expected = name === 'tensorflow' && preferred === 'auto' && isModuleNotFound(error);
      const fields = { backend: name, preferred, err: error };
      if (expected) logger?.info(fields, 'model backend unavailable');
      else logger?.warn(fields, 'model backend unavailable');
    }
  }
  // A failed tf.setBackend leaves the engine without a backend; put back the one that worked.
  if (active !== undefined) await tf.setBackend(active);
  throw new StreamtrainError(
    'MODEL_BACKEND_UNAVAILABLE',
    `no TensorFlow.js backend for preference '${preferred}': ` +
      unavailable.map((u) => `${u.backend}: ${u.reason}`).join('; '),
    { cause: lastError },
  );
}

/**
 * Chooses the process-wide TensorFlow.js backend and returns it with the tfjs namespace. Call it
 * once at start-up, before building a model; the model code is the same on every backend.
 *
 * Idempotent: the same preference always resolves to the same result object (a failure is
 * remembered too, since a missing package does not appear later), and each call makes that
 * backend the active one again in case another preference switched it in between.
 *
 * @throws StreamtrainError `MODEL_BACKEND_UNAVAILABLE` when no candidate backend initialises.
 */
export async function loadBackend(options: LoadBackendOptions = {}): Promise<LoadedBackend> {
  const preferred = options.preferred ?? 'auto';
  let selection = selections.get(preferred);
  if (selection === undefined) {
    selection = select(preferred, options.logger);
    selections.set(preferred, selection);
  }
  const loaded = await selection;
  if (active !== loaded.backend) {
    await tf.setBackend(loaded.backend);
    active = loaded.backend;
  }
  return loaded;
}
