import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { Secret } from '../../src/config/secret.ts';

/**
 * Hub88's request signing: `X-Hub88-Signature` is the base64 RSA-SHA256 (PKCS#1 v1.5) signature of
 * the raw body bytes. Hub88 signs its calls with its private key (the casino verifies with Hub88's
 * public key); the casino signs every answer with its own private key (Hub88 holds its public key).
 * Not encryption: the body travels in clear, and the signature proves who wrote it and that it was
 * not changed.
 */

export const SIGNATURE_HEADER = 'X-Hub88-Signature';

/** A PEM from the environment may come with its line breaks written as "\n". */
const pemText = (text: string) => text.replaceAll('\\n', '\n').trim();

const rsaBits = (key: KeyObject) => key.asymmetricKeyDetails?.modulusLength ?? 0;

/** The vendor's public key, checked at config load: an RSA public key in PEM, of at least 1024 bits. */
export const publicKeyPem = z.string().transform((text, ctx) => {
  const pem = pemText(text);
  const fail = (why: string) => {
    ctx.addIssue({ code: 'custom', message: `not Hub88's RSA public key in PEM of at least 1024 bits: ${why}` });
    return z.NEVER;
  };
  if (/PRIVATE KEY/.test(pem)) return fail('this is a private key (give the public key Hub88 sent)');
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    return fail('no public key can be read from it');
  }
  if (key.asymmetricKeyType !== 'rsa') return fail(`it is a ${key.asymmetricKeyType} key`);
  if (rsaBits(key) < 1024) return fail(`it has ${rsaBits(key)} bits`);
  return key;
});

/** The casino's private key, checked at config load (an unencrypted RSA private key in PEM, at least 2048 bits), kept as a Secret. */
export const privateKeyPem = z.string().transform((text, ctx) => {
  const pem = pemText(text);
  // The key's text never goes into the message.
  const fail = (why: string) => {
    ctx.addIssue({ code: 'custom', message: `not an unencrypted RSA private key in PEM of at least 2048 bits: ${why}` });
    return z.NEVER;
  };
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    return fail('no private key can be read from it');
  }
  if (key.asymmetricKeyType !== 'rsa') return fail(`it is a ${key.asymmetricKeyType} key`);
  if (rsaBits(key) < 2048) return fail(`it has ${rsaBits(key)} bits`);
  return new Secret(pem);
});

/** Signs `body` (its UTF-8 bytes): the base64 signature for the answer's header. Off the event loop (libuv's pool). */
export function signBody(body: string | Buffer, key: KeyObject): Promise<string> {
  return new Promise((resolve, reject) =>
    sign('sha256', typeof body === 'string' ? Buffer.from(body, 'utf8') : body, key, (error, signature) => (error ? reject(error) : resolve(signature.toString('base64')))),
  );
}

/** Whether `signature` (base64) is `key`'s signature of exactly these bytes. Anything unreadable is false. */
export function verifyBody(body: Buffer, signature: string | undefined, key: KeyObject): Promise<boolean> {
  const text = signature?.trim() ?? '';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      verify('sha256', body, key, Buffer.from(text, 'base64'), (error, ok) => resolve(!error && ok));
    } catch {
      resolve(false);
    }
  });
}
