import type { Role } from '@reward/server-kit/roles';

/** A user as the rest of the server sees it: no password hash, no Mongo internals. */
export interface User {
  id: string;
  email: string;
  nickname: string | null;
  roles: Role[];
  referralCode: string;
  referredBy: string | null;
  createdAt: Date;
  accessVersion: number;
  sessionEpoch: number;
}

/** What a login needs and nothing else reads: the hash stays inside the login path. */
export interface UserCredentials {
  id: string;
  roles: Role[];
  passwordHash: string;
  accessVersion: number;
  sessionEpoch: number;
}

export interface NewUser {
  email: string;
  passwordHash: string;
  nickname: string | null;
  roles: Role[];
  referralCode: string;
  referredBy: string | null;
}

/** Trimmed and lower-cased: `Alice@Example.com ` and `alice@example.com` are one account. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}
