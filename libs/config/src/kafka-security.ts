import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { booleanFlag, commaList, ConfigError } from './load-config';

/** SASL mechanisms the Kafka client speaks. */
export const kafkaSaslMechanisms = [
  'plain',
  'scram-sha-256',
  'scram-sha-512',
  'oauthbearer',
] as const;

/** A SASL mechanism, lower case as kafkajs names them. */
export type KafkaSaslMechanism = (typeof kafkaSaslMechanisms)[number];

/**
 * The Kafka client libraries `libs/kafka` can run on, behind one interface (docs/DEPENDENCIES.md
 * says why there are two and which is the default).
 */
export const kafkaClientNames = ['kafkajs', 'platformatic'] as const;

/** A Kafka client library: `kafkajs` or `platformatic` (@platformatic/kafka). */
export type KafkaClientName = (typeof kafkaClientNames)[number];

/** The client used when `KAFKA_CLIENT` is not set. */
export const DEFAULT_KAFKA_CLIENT: KafkaClientName = 'kafkajs';

const path = (): z.ZodString => z.string().min(1);

/**
 * Kafka connection variables: bootstrap brokers, TLS and SASL. Every service that talks to Kafka
 * spreads this shape into its schema and adds {@link checkKafkaSecurity}, then hands
 * {@link kafkaConnectionOf}'s result to `createKafkaClient`. docs/OPERATIONS.md ("Connecting to your
 * infrastructure") shows the settings of common managed clusters.
 */
export const kafkaEnvShape = {
  /** Comma-separated bootstrap brokers. @default '127.0.0.1:9092' */
  KAFKA_BROKERS: commaList().default(['127.0.0.1:9092']),
  /** Client id sent to the brokers (shows in broker logs and quotas). */
  KAFKA_CLIENT_ID: z.string().min(1).optional(),
  /**
   * The client library: `kafkajs` or `platformatic` (@platformatic/kafka). Both keep the same
   * delivery guarantees; docs/BENCHMARKS.md compares them. @default 'kafkajs'
   */
  KAFKA_CLIENT: z.enum(kafkaClientNames).default(DEFAULT_KAFKA_CLIENT),
  /**
   * Connect with TLS. Brokers are verified against the system's CAs unless `KAFKA_SSL_CA_FILE`
   * names others. @default false
   */
  KAFKA_SSL: booleanFlag().default(false),
  /** PEM file of the CA certificate(s) to trust instead of the system's (a private CA). */
  KAFKA_SSL_CA_FILE: path().optional(),
  /** PEM file of the client certificate, for brokers that require one (mutual TLS). */
  KAFKA_SSL_CERT_FILE: path().optional(),
  /** PEM file of the client certificate's private key; set with `KAFKA_SSL_CERT_FILE`. */
  KAFKA_SSL_KEY_FILE: path().optional(),
  /** Passphrase of an encrypted `KAFKA_SSL_KEY_FILE`. */
  KAFKA_SSL_KEY_PASSWORD: z.string().min(1).optional(),
  /** SASL mechanism: `plain`, `scram-sha-256`, `scram-sha-512` or `oauthbearer` (any case). */
  KAFKA_SASL_MECHANISM: z
    .string()
    .transform((raw) => raw.toLowerCase())
    .pipe(z.enum(kafkaSaslMechanisms))
    .optional(),
  /** SASL user (PLAIN and SCRAM). */
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  /** SASL password (PLAIN and SCRAM). A secret: no default. */
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  /**
   * OAUTHBEARER with the OAuth 2 client-credentials grant: the token endpoint to ask. Tokens are
   * cached until a minute before they expire.
   */
  KAFKA_SASL_OAUTHBEARER_TOKEN_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** OAUTHBEARER client id, with `KAFKA_SASL_OAUTHBEARER_TOKEN_URL`. */
  KAFKA_SASL_OAUTHBEARER_CLIENT_ID: z.string().min(1).optional(),
  /** OAUTHBEARER client secret, with `KAFKA_SASL_OAUTHBEARER_TOKEN_URL`. A secret: no default. */
  KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET: z.string().min(1).optional(),
  /** OAUTHBEARER scope to request (space-separated), if the provider wants one. */
  KAFKA_SASL_OAUTHBEARER_SCOPE: z.string().min(1).optional(),
  /**
   * OAUTHBEARER with a token that something else keeps fresh (a sidecar, a projected service
   * account token): the file is read again at every authentication.
   */
  KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: path().optional(),
};

/** The Kafka variables as parsed by {@link kafkaEnvShape}. */
export type KafkaEnv = z.output<z.ZodObject<typeof kafkaEnvShape>>;

/** TLS settings of the Kafka client: files, read when the client is created. */
export interface KafkaTls {
  /** CA certificates to trust instead of the system's. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  keyPassword?: string;
}

/** SASL settings of the Kafka client. */
export type KafkaSasl =
  | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
  | {
      mechanism: 'oauthbearer';
      tokenUrl?: string;
      clientId?: string;
      clientSecret?: string;
      scope?: string;
      tokenFile?: string;
    };

/** Where and how to connect to Kafka: spread into `createKafkaClient`'s options. */
export interface KafkaConnection {
  brokers: string[];
  /** The client library. */
  client: KafkaClientName;
  /** TLS on; `{}` means the system's CAs and no client certificate. */
  ssl?: KafkaTls;
  sasl?: KafkaSasl;
}

/** A problem with the Kafka variables: which variable, and what is wrong. */
export interface KafkaSecurityProblem {
  variable: keyof KafkaEnv;
  message: string;
}

function unreadable(file: string): string | undefined {
  try {
    readFileSync(file);
    return undefined;
  } catch (error) {
    return `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
}

function pemProblem(
  file: string,
  parse: (pem: string) => unknown,
  what: string,
): string | undefined {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch {
    return unreadable(file);
  }
  try {
    parse(pem);
    return undefined;
  } catch (error) {
    return `${file} is not ${what} (${(error as Error).message})`;
  }
}

/**
 * Every inconsistency in the Kafka TLS and SASL variables, as the operator would fix them: a
 * half-configured set (a certificate without its key, SCRAM without a password, a CA file without
 * `KAFKA_SSL=true`) and files that cannot be read or parsed. One rule, used by the config schemas
 * ({@link checkKafkaSecurity}) and again by {@link kafkaConnectionOf}.
 */
export function kafkaSecurityProblems(env: Partial<KafkaEnv>): KafkaSecurityProblem[] {
  const problems: KafkaSecurityProblem[] = [];
  const add = (variable: keyof KafkaEnv, message: string): void => {
    problems.push({ variable, message });
  };
  const ssl = env.KAFKA_SSL === true;
  for (const variable of [
    'KAFKA_SSL_CA_FILE',
    'KAFKA_SSL_CERT_FILE',
    'KAFKA_SSL_KEY_FILE',
  ] as const) {
    if (env[variable] !== undefined && !ssl) add(variable, 'is set but KAFKA_SSL is not true');
  }
  if (env.KAFKA_SSL_CERT_FILE !== undefined && env.KAFKA_SSL_KEY_FILE === undefined)
    add('KAFKA_SSL_KEY_FILE', 'is required with KAFKA_SSL_CERT_FILE (the client certificate)');
  if (env.KAFKA_SSL_KEY_FILE !== undefined && env.KAFKA_SSL_CERT_FILE === undefined)
    add('KAFKA_SSL_CERT_FILE', 'is required with KAFKA_SSL_KEY_FILE (the client key)');
  if (env.KAFKA_SSL_KEY_PASSWORD !== undefined && env.KAFKA_SSL_KEY_FILE === undefined)
    add('KAFKA_SSL_KEY_PASSWORD', 'is set but KAFKA_SSL_KEY_FILE is not');
  if (typeof env.KAFKA_SSL_CA_FILE === 'string') {
    const problem = pemProblem(
      env.KAFKA_SSL_CA_FILE,
      (pem) => new X509Certificate(pem),
      'a PEM certificate',
    );
    if (problem !== undefined) add('KAFKA_SSL_CA_FILE', problem);
  }
  if (typeof env.KAFKA_SSL_CERT_FILE === 'string') {
    const problem = pemProblem(
      env.KAFKA_SSL_CERT_FILE,
      (pem) => new X509Certificate(pem),
      'a PEM certificate',
    );
    if (problem !== undefined) add('KAFKA_SSL_CERT_FILE', problem);
  }
  if (typeof env.KAFKA_SSL_KEY_FILE === 'string') {
    const passphrase = env.KAFKA_SSL_KEY_PASSWORD;
    const problem = pemProblem(
      env.KAFKA_SSL_KEY_FILE,
      (pem) => createPrivateKey({ key: pem, format: 'pem', passphrase }),
      passphrase === undefined
        ? 'an unencrypted PEM private key (encrypted keys need KAFKA_SSL_KEY_PASSWORD)'
        : 'a PEM private key that KAFKA_SSL_KEY_PASSWORD opens',
    );
    if (problem !== undefined) add('KAFKA_SSL_KEY_FILE', problem);
  }

  const mechanism = env.KAFKA_SASL_MECHANISM;
  const userPassword = ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const;
  const oauthClient = [
    'KAFKA_SASL_OAUTHBEARER_TOKEN_URL',
    'KAFKA_SASL_OAUTHBEARER_CLIENT_ID',
    'KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET',
  ] as const;
  const oauthAll = [
    ...oauthClient,
    'KAFKA_SASL_OAUTHBEARER_SCOPE',
    'KAFKA_SASL_OAUTHBEARER_TOKEN_FILE',
  ] as const;
  if (mechanism === undefined) {
    for (const variable of [...userPassword, ...oauthAll]) {
      if (env[variable] !== undefined) add(variable, 'is set but KAFKA_SASL_MECHANISM is not');
    }
  } else if (mechanism === 'oauthbearer') {
    for (const variable of userPassword) {
      if (env[variable] !== undefined)
        add(variable, 'is not used by OAUTHBEARER (set the KAFKA_SASL_OAUTHBEARER_* variables)');
    }
    const file = env.KAFKA_SASL_OAUTHBEARER_TOKEN_FILE;
    const clientSet = oauthClient.filter((variable) => env[variable] !== undefined);
    if (file !== undefined && clientSet.length > 0) {
      add(
        'KAFKA_SASL_OAUTHBEARER_TOKEN_FILE',
        'and KAFKA_SASL_OAUTHBEARER_TOKEN_URL are alternatives; set one',
      );
    } else if (file === undefined && clientSet.length === 0) {
      add(
        'KAFKA_SASL_OAUTHBEARER_TOKEN_URL',
        'is required by OAUTHBEARER (with _CLIENT_ID and _CLIENT_SECRET), or set KAFKA_SASL_OAUTHBEARER_TOKEN_FILE',
      );
    } else if (file === undefined) {
      for (const variable of oauthClient) {
        if (env[variable] === undefined)
          add(variable, 'is required with the other KAFKA_SASL_OAUTHBEARER_* client variables');
      }
    } else {
      const problem = unreadable(file);
      if (problem !== undefined) add('KAFKA_SASL_OAUTHBEARER_TOKEN_FILE', problem);
    }
    if (env.KAFKA_SASL_OAUTHBEARER_SCOPE !== undefined && file !== undefined)
      add('KAFKA_SASL_OAUTHBEARER_SCOPE', 'is used with KAFKA_SASL_OAUTHBEARER_TOKEN_URL only');
  } else {
    for (const variable of userPassword) {
      if (env[variable] === undefined)
        add(variable, `is required by KAFKA_SASL_MECHANISM=${mechanism}`);
    }
    for (const variable of oauthAll) {
      if (env[variable] !== undefined)
        add(variable, `is not used by KAFKA_SASL_MECHANISM=${mechanism}`);
    }
  }
  return problems;
}

/**
 * The cross-variable check of the Kafka settings, for a service schema's `superRefine`. Pass
 * {@link kafkaSecurityCheckParams} too, so that it runs even when other variables are wrong and the
 * startup error lists every problem at once.
 */
export function checkKafkaSecurity(env: Partial<KafkaEnv>, context: z.RefinementCtx): void {
  for (const problem of kafkaSecurityProblems(env)) {
    context.addIssue({ code: 'custom', path: [problem.variable], message: problem.message });
  }
}

/** Parameters of `superRefine(checkKafkaSecurity, …)`: run even if other fields failed. */
export const kafkaSecurityCheckParams = { when: (): boolean => true } as const;

/**
 * The Kafka client's connection settings from a parsed config. Throws the same
 * {@link ConfigError} as the schema would if the settings are inconsistent (for callers whose
 * schema lacks {@link checkKafkaSecurity}).
 */
export function kafkaConnectionOf(env: KafkaEnv): KafkaConnection {
  const problems = kafkaSecurityProblems(env);
  if (problems.length > 0)
    throw new ConfigError(problems.map((problem) => `${problem.variable}: ${problem.message}`));
  const connection: KafkaConnection = {
    brokers: [...env.KAFKA_BROKERS],
    client: env.KAFKA_CLIENT,
  };
  if (env.KAFKA_SSL) {
    connection.ssl = {
      ...(env.KAFKA_SSL_CA_FILE === undefined ? {} : { caFile: env.KAFKA_SSL_CA_FILE }),
      ...(env.KAFKA_SSL_CERT_FILE === undefined ? {} : { certFile: env.KAFKA_SSL_CERT_FILE }),
      ...(env.KAFKA_SSL_KEY_FILE === undefined ? {} : { keyFile: env.KAFKA_SSL_KEY_FILE }),
      ...(env.KAFKA_SSL_KEY_PASSWORD === undefined
        ? {}
        : { keyPassword: env.KAFKA_SSL_KEY_PASSWORD }),
    };
  }
  const mechanism = env.KAFKA_SASL_MECHANISM;
  if (mechanism === 'oauthbearer') {
    connection.sasl = {
      mechanism,
      ...(env.KAFKA_SASL_OAUTHBEARER_TOKEN_FILE === undefined
        ? {
            tokenUrl: env.KAFKA_SASL_OAUTHBEARER_TOKEN_URL,
            clientId: env.KAFKA_SASL_OAUTHBEARER_CLIENT_ID,
            clientSecret: env.KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET,
            ...(env.KAFKA_SASL_OAUTHBEARER_SCOPE === undefined
              ? {}
              : { scope: env.KAFKA_SASL_OAUTHBEARER_SCOPE }),
          }
        : { tokenFile: env.KAFKA_SASL_OAUTHBEARER_TOKEN_FILE }),
    };
  } else if (mechanism !== undefined) {
    connection.sasl = {
      mechanism,
      username: env.KAFKA_SASL_USERNAME ?? '',
      password: env.KAFKA_SASL_PASSWORD ?? '',
    };
  }
  return connection;
}
