import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions as PlatformaticSasl } from '@platformatic/kafka';
import type { OauthbearerProviderResponse, SASLOptions } from 'kafkajs';
import type { KafkaSasl, KafkaTls } from '@streamtrain/config';
import { StreamtrainError, tlsVerifyFailure } from '@streamtrain/contracts';
import { errorChain } from './kafka-errors';

/**
 * Node's TLS options for `tls`: the PEM files read now, so a vanished file fails at startup.
 * `{}` (no files) verifies the brokers against the system's CAs. @platformatic/kafka's `tls`.
 */
export function tlsOptions(tls: KafkaTls): ConnectionOptions {
  return {
    ...(tls.caFile === undefined ? {} : { ca: [readFileSync(tls.caFile, 'utf8')] }),
    ...(tls.certFile === undefined ? {} : { cert: readFileSync(tls.certFile, 'utf8') }),
    ...(tls.keyFile === undefined ? {} : { key: readFileSync(tls.keyFile, 'utf8') }),
    ...(tls.keyPassword === undefined ? {} : { passphrase: tls.keyPassword }),
  };
}

/** kafkajs's `ssl` option: {@link tlsOptions}, or `true` for the system's CAs alone. */
export function kafkajsSsl(tls: KafkaTls): ConnectionOptions | true {
  const options = tlsOptions(tls);
  return Object.keys(options).length === 0 ? true : options;
}

/** Renew a cached token this long before the provider says it expires. */
const TOKEN_RENEW_MARGIN_MS = 60_000;

/**
 * The OAuth 2 client-credentials grant (RFC 6749 §4.4), client authenticated with HTTP Basic, as
 * OAUTHBEARER token provider; the token is kept until shortly before `expires_in` runs out.
 */
export function clientCredentialsProvider(
  options: { tokenUrl: string; clientId: string; clientSecret: string; scope?: string },
  now: () => number = Date.now,
): () => Promise<OauthbearerProviderResponse> {
  let cached: { value: string; renewAt: number } | undefined;
  return async () => {
    if (cached !== undefined && now() < cached.renewAt) return { value: cached.value };
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (options.scope !== undefined) body.set('scope', options.scope);
    const basic = Buffer.from(
      `${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`,
    ).toString('base64');
    const response = await fetch(options.tokenUrl, {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new StreamtrainError(
        'KAFKA_AUTH_FAILED',
        `OAuth token endpoint ${options.tokenUrl} answered ${response.status}: ${text.slice(0, 200)}`,
      );
    }
    let token: { access_token?: unknown; expires_in?: unknown };
    try {
      token = JSON.parse(text) as typeof token;
    } catch {
      token = {};
    }
    if (typeof token.access_token !== 'string') {
      throw new StreamtrainError(
        'KAFKA_AUTH_FAILED',
        `OAuth token endpoint ${options.tokenUrl} sent no access_token`,
      );
    }
    const lifetimeMs = typeof token.expires_in === 'number' ? token.expires_in * 1000 : 0;
    cached = {
      value: token.access_token,
      renewAt: now() + Math.max(0, lifetimeMs - TOKEN_RENEW_MARGIN_MS),
    };
    return { value: token.access_token };
  };
}

type OauthbearerSasl = Extract<KafkaSasl, { mechanism: 'oauthbearer' }>;

/**
 * Where OAUTHBEARER tokens come from: a file something else keeps fresh (read at every
 * authentication: its writer owns the token's lifetime) or the client-credentials grant.
 */
function oauthTokenProvider(sasl: OauthbearerSasl): () => Promise<OauthbearerProviderResponse> {
  const { tokenFile, tokenUrl, clientId, clientSecret, scope } = sasl;
  if (tokenFile !== undefined) {
    return () => Promise.resolve({ value: readFileSync(tokenFile, 'utf8').trim() });
  }
  if (tokenUrl === undefined || clientId === undefined || clientSecret === undefined) {
    throw new StreamtrainError(
      'CONFIG_INVALID',
      'OAUTHBEARER needs a token file or a token URL with client id and secret',
    );
  }
  return clientCredentialsProvider({
    tokenUrl,
    clientId,
    clientSecret,
    ...(scope === undefined ? {} : { scope }),
  });
}

/** kafkajs's `sasl` option. */
export function kafkajsSasl(sasl: KafkaSasl): SASLOptions {
  if (sasl.mechanism !== 'oauthbearer') return sasl;
  return { mechanism: 'oauthbearer', oauthBearerProvider: oauthTokenProvider(sasl) };
}

/** @platformatic/kafka's `sasl` option (mechanisms in capitals, the token as a provider). */
export function platformaticSasl(sasl: KafkaSasl): PlatformaticSasl {
  if (sasl.mechanism !== 'oauthbearer') {
    return {
      mechanism:
        sasl.mechanism === 'plain'
          ? 'PLAIN'
          : sasl.mechanism === 'scram-sha-256'
            ? 'SCRAM-SHA-256'
            : 'SCRAM-SHA-512',
      username: sasl.username,
      password: sasl.password,
    };
  }
  const provider = oauthTokenProvider(sasl);
  return { mechanism: 'OAUTHBEARER', token: async () => (await provider()).value };
}

/** True for a refused SASL authentication, as either client reports it. */
function isSaslRefusal(error: unknown): boolean {
  const { name, code } = error as { name?: unknown; code?: unknown };
  return name === 'KafkaJSSASLAuthenticationError' || code === 'PLT_KFK_AUTHENTICATION';
}

/**
 * The error a failed connect is reported as: refused credentials (`KAFKA_AUTH_FAILED`) and an
 * untrusted broker certificate (`KAFKA_TLS_FAILED`) say what to check and are not retriable;
 * anything else is a retriable `BROKER_UNAVAILABLE` naming the brokers tried.
 */
export function explainConnectError(
  error: unknown,
  connection: { brokers: readonly string[]; sasl?: KafkaSasl; ssl?: KafkaTls },
): StreamtrainError {
  const brokers = connection.brokers.join(',');
  const chain = errorChain(error);
  const sasl = chain.find(isSaslRefusal);
  if (sasl !== undefined) {
    // @platformatic/kafka says "SASL authentication failed." and puts the broker's words in the cause.
    const brokerSaid = errorChain((sasl as Error).cause)
      .map((inner) => (inner as Error).message)
      .find((message) => typeof message === 'string' && message.length > 0);
    const said = [(sasl as Error).message, brokerSaid].filter(Boolean).join(' ');
    const who =
      connection.sasl !== undefined && 'username' in connection.sasl
        ? ` for user "${connection.sasl.username}"`
        : '';
    const mechanism = connection.sasl?.mechanism.toUpperCase() ?? 'SASL';
    return new StreamtrainError(
      'KAFKA_AUTH_FAILED',
      `Kafka at ${brokers} refused ${mechanism} authentication${who} (${said}); ` +
        'check KAFKA_SASL_MECHANISM and the credentials',
      { retriable: false, cause: error },
    );
  }
  const tls = chain.map(tlsVerifyFailure).find((code) => code !== undefined);
  if (tls !== undefined) {
    return new StreamtrainError(
      'KAFKA_TLS_FAILED',
      `the certificate of Kafka at ${brokers} is not trusted (${tls}); ` +
        'set KAFKA_SSL_CA_FILE to the CA that signed it',
      { retriable: false, cause: error },
    );
  }
  return new StreamtrainError('BROKER_UNAVAILABLE', `cannot reach Kafka at ${brokers}`, {
    retriable: true,
    cause: error,
  });
}
