import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { OauthbearerProviderResponse, SASLOptions } from 'kafkajs';
import type { KafkaSasl, KafkaTls } from '@streamtrain/config';
import { StreamtrainError, tlsVerifyFailure } from '@streamtrain/contracts';

/** kafkajs's `ssl` option: the PEM files read now, so a vanished file fails at startup. */
export function kafkajsSsl(tls: KafkaTls): ConnectionOptions | true {
  if (tls.caFile === undefined && tls.certFile === undefined) return true;
  return {
    ...(tls.caFile === undefined ? {} : { ca: [readFileSync(tls.caFile, 'utf8')] }),
    ...(tls.certFile === undefined ? {} : { cert: readFileSync(tls.certFile, 'utf8') }),
    ...(tls.keyFile === undefined ? {} : { key: readFileSync(tls.keyFile, 'utf8') }),
    ...(tls.keyPassword === undefined ? {} : { passphrase: tls.keyPassword }),
  };
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

/** kafkajs's `sasl` option. */
export function kafkajsSasl(sasl: KafkaSasl): SASLOptions {
  if (sasl.mechanism !== 'oauthbearer') return sasl;
  const { tokenFile, tokenUrl, clientId, clientSecret, scope } = sasl;
  if (tokenFile !== undefined) {
    return {
      mechanism: 'oauthbearer',
      // Read at every authentication: whatever keeps the file fresh owns the token's lifetime.
      oauthBearerProvider: () => Promise.resolve({ value: readFileSync(tokenFile, 'utf8').trim() }),
    };
  }
  if (tokenUrl === undefined || clientId === undefined || clientSecret === undefined) {
    throw new StreamtrainError(
      'CONFIG_INVALID',
      'OAUTHBEARER needs a token file or a token URL with client id and secret',
    );
  }
  return {
    mechanism: 'oauthbearer',
    oauthBearerProvider: clientCredentialsProvider({
      tokenUrl,
      clientId,
      clientSecret,
      ...(scope === undefined ? {} : { scope }),
    }),
  };
}

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current !== undefined && current !== null && chain.length < 8) {
    chain.push(current);
    current =
      (current as { cause?: unknown; originalError?: unknown }).cause ??
      (current as { originalError?: unknown }).originalError;
  }
  return chain;
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
  const chain = causes(error);
  const sasl = chain.find(
    (inner) => (inner as { name?: unknown }).name === 'KafkaJSSASLAuthenticationError',
  );
  if (sasl !== undefined) {
    const who =
      connection.sasl !== undefined && 'username' in connection.sasl
        ? ` for user "${connection.sasl.username}"`
        : '';
    const mechanism = connection.sasl?.mechanism.toUpperCase() ?? 'SASL';
    return new StreamtrainError(
      'KAFKA_AUTH_FAILED',
      `Kafka at ${brokers} refused ${mechanism} authentication${who} (${(sasl as Error).message}); ` +
        'check KAFKA_SASL_MECHANISM and the credentials',
      { retriable: false, cause: error },
    );
  }
  const tls = tlsVerifyFailure(error);
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
