import { tlsVerifyFailure } from '@streamtrain/contracts';

describe('tlsVerifyFailure', () => {
  it('when a certificate did not verify, then its code is found, however deeply the client wrapped it', () => {
    const tls = Object.assign(new Error('self-signed certificate in certificate chain'), {
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    });
    expect(tlsVerifyFailure(tls)).toBe('SELF_SIGNED_CERT_IN_CHAIN');
    expect(
      tlsVerifyFailure(new Error('outer', { cause: new Error('middle', { cause: tls }) })),
    ).toBe('SELF_SIGNED_CERT_IN_CHAIN');
    expect(tlsVerifyFailure({ message: 'kafkajs', originalError: tls })).toBe(
      'SELF_SIGNED_CERT_IN_CHAIN',
    );
  });

  it('when the error is anything else, then there is no TLS failure to report', () => {
    expect(
      tlsVerifyFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    ).toBeUndefined();
    expect(tlsVerifyFailure(undefined)).toBeUndefined();
    expect(tlsVerifyFailure('a string')).toBeUndefined();
  });
});
