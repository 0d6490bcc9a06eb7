import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientCredentialsProvider, explainConnectError } from '../security';

describe('OAUTHBEARER client-credentials provider', () => {
  it('when a token is still fresh, then it is reused; near expiry, then a new one is fetched', async () => {
    const requests: { authorization?: string; body: string }[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        requests.push({ authorization: request.headers.authorization, body });
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ access_token: `t${requests.length}`, expires_in: 300 }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      let now = 1_000_000;
      const provider = clientCredentialsProvider(
        {
          tokenUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
          clientId: 'ingest',
          clientSecret: 's3cret',
          scope: 'kafka',
        },
        () => now,
      );
      expect(await provider()).toEqual({ value: 't1' });
      now += 200_000;
      expect(await provider()).toEqual({ value: 't1' });
      now += 50_000; // within a minute of the 300 s lifetime
      expect(await provider()).toEqual({ value: 't2' });
      expect(requests[0]?.authorization).toBe(
        `Basic ${Buffer.from('ingest:s3cret').toString('base64')}`,
      );
      expect(new URLSearchParams(requests[0]?.body)).toEqual(
        new URLSearchParams({ grant_type: 'client_credentials', scope: 'kafka' }),
      );
    } finally {
      server.close();
    }
  });

  it('when the token endpoint refuses, then the error says what it answered', async () => {
    const server = createServer((_request, response) => {
      response.statusCode = 401;
      response.end('{"error":"invalid_client"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const provider = clientCredentialsProvider({
        tokenUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
        clientId: 'ingest',
        clientSecret: 'wrong',
      });
      await expect(provider()).rejects.toMatchObject({
        code: 'KAFKA_AUTH_FAILED',
        message: expect.stringMatching(/answered 401: \{"error":"invalid_client"\}/) as unknown,
      });
    } finally {
      server.close();
    }
  });
});

describe('explainConnectError', () => {
  it('when the broker certificate does not verify, then the error points at KAFKA_SSL_CA_FILE', () => {
    const cause = Object.assign(new Error('Connection error: self-signed certificate'), {
      name: 'KafkaJSConnectionError',
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    });
    const error = explainConnectError(Object.assign(new Error('retries exhausted'), { cause }), {
      brokers: ['b1:9093'],
      ssl: {},
    });
    expect(error).toMatchObject({ code: 'KAFKA_TLS_FAILED', retriable: false });
    expect(error.message).toMatch(/KAFKA_SSL_CA_FILE/);
  });

  it('when the broker is simply unreachable, then the error is a retriable BROKER_UNAVAILABLE', () => {
    const error = explainConnectError(new Error('ECONNREFUSED'), { brokers: ['b1:9092'] });
    expect(error).toMatchObject({ code: 'BROKER_UNAVAILABLE', retriable: true });
    expect(error.message).toBe('cannot reach Kafka at b1:9092');
  });
});
