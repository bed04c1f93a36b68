import type { SigningKeyDocument } from './signing-key.schema.js';

export interface StoredSigningKey {
  privateKeyPem: string;
  createdAt: Date;
}

export function toStoredSigningKey(document: SigningKeyDocument): StoredSigningKey {
  return { privateKeyPem: document.privateKeyPem, createdAt: document.createdAt };
}
