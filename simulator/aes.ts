import { createCipheriv, createDecipheriv } from 'node:crypto';

/**
 * The event dialect's body encryption as the vendor's encryption guide gives it
 * (docs/specs/event-dialect.md): AES-256-ECB, PKCS#7 padding, base64, keyed by the API key's
 * 32 UTF-8 bytes. The vendor's copy, independent of the gateway's codec: the simulator and the bench
 * both speak it.
 */

export function encrypt(key: string, plain: string): string {
  const cipher = createCipheriv('aes-256-ecb', Buffer.from(key, 'utf8'), null);
  return Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]).toString('base64');
}

export function decrypt(key: string, body: string): string {
  const decipher = createDecipheriv('aes-256-ecb', Buffer.from(key, 'utf8'), null);
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
}
