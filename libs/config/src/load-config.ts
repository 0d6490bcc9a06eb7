import { z } from 'zod';
import { StreamtrainError } from '@streamtrain/contracts';

/** Thrown when the environment does not satisfy a service's config schema; lists every problem. */
export class ConfigError extends StreamtrainError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('CONFIG_INVALID', `invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Environment variables, as `process.env` has them. */
export type Env = Readonly<Record<string, string | undefined>>;

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * Parses `env` with `schema` and returns a deeply frozen, typed config, or throws one
 * {@link ConfigError} naming every variable that is missing or wrong, so an operator fixes
 * them all in one go.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: Env = process.env): z.output<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`),
    );
  }
  return deepFreeze(parsed.data);
}

/** A comma-separated list, e.g. `KAFKA_BROKERS=127.0.0.1:9092,127.0.0.1:9094`. */
export function commaList(): z.ZodPipe<z.ZodString, z.ZodTransform<string[], string>> {
  return z
    .string()
    .min(1)
    .transform((raw) =>
      raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0),
    );
}

/** A boolean written as `true`/`false`/`1`/`0`. */
export function booleanFlag(): z.ZodPipe<
  z.ZodEnum<{ true: 'true'; false: 'false'; '1': '1'; '0': '0' }>,
  z.ZodTransform<boolean, 'true' | 'false' | '1' | '0'>
> {
  return z.enum(['true', 'false', '1', '0']).transform((raw) => raw === 'true' || raw === '1');
}

/** A non-negative integer written in decimal. */
export function integer(min = 0): z.ZodCoercedNumber<unknown> {
  return z.coerce.number().int().min(min);
}
