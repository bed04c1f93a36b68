import { type KeyObject, createPrivateKey, createPublicKey } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';

/** The public half as published in the JWKS. */
export interface PublicJwk {
  kty: 'RSA';
  n: string;
  e: string;
  kid: string;
  alg: 'RS256';
  use: 'sig';
}

/** A key that verifies access tokens: published in the JWKS under its `kid`. */
export interface VerificationKey {
  kid: string;
  publicKey: KeyObject;
  jwk: PublicJwk;
}

/** A loaded signing key: the private half never leaves this object except to sign. */
export interface SigningKey extends VerificationKey {
  privateKey: KeyObject;
}

/** The published form of a public key; `kid` is the RFC 7638 thumbprint, so every replica derives the same one. */
async function verificationKeyOf(publicKey: KeyObject): Promise<VerificationKey> {
  const { n, e } = publicKey.export({ format: 'jwk' });
  if (typeof n !== 'string' || typeof e !== 'string') throw new Error('signing key is not an RSA key');
  const kid = await calculateJwkThumbprint({ kty: 'RSA', n, e }, 'sha256');
  return { kid, publicKey, jwk: { kty: 'RSA', n, e, kid, alg: 'RS256', use: 'sig' } };
}

/** Builds the key from PEM, with the same `kid` on every replica. */
export async function signingKeyFromPem(privateKeyPem: string): Promise<SigningKey> {
  const privateKey = createPrivateKey(privateKeyPem);
  return { ...(await verificationKeyOf(createPublicKey(privateKey))), privateKey };
}

/** A public key (PEM) that verifies tokens another key signs: one being rotated in or out (JWT_ADDITIONAL_PUBLIC_KEYS). */
export function verificationKeyFromPem(publicKeyPem: string): Promise<VerificationKey> {
  return verificationKeyOf(createPublicKey(publicKeyPem));
}
