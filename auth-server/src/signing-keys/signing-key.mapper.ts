import type { SigningKeyEntity } from './signing-key.schema.js';

export interface StoredSigningKey {
  privateKeyPem: string;
  createdAt: Date;
}

export function toStoredSigningKey(document: SigningKeyEntity): StoredSigningKey {
  return { privateKeyPem: document.privateKeyPem, createdAt: document.createdAt };
}
