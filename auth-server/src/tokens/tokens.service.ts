import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { tooManyRequests } from '@reward/server-kit/errors';
import { type AuthenticatedUser, Role } from '@reward/server-kit/roles';
import { refuseWriteAfterStartBy } from '@reward/server-kit/start-by';
import type { AuthConfig } from '../config/auth-config.js';
import { AUTH_CONFIG } from '../config/config.module.js';
import type { PasswordRequest } from '../throttling/password-gate.js';
import { PasswordHasher } from '../users/password-hasher.js';
import { OutboxService } from '../outbox/outbox.service.js';
import { UsersService } from '../users/users.service.js';
import { SigningKeysService } from '../signing-keys/signing-keys.service.js';
import { AccessTokenIssuer } from './access-token.issuer.js';
import type { TokenPairResponseDto } from './dto/token-pair-response.dto.js';
import { assessPresentedToken, keyedRetryVerdict, rotationOutcome } from './refresh-rotation.js';
import { RefreshPace } from './refresh-pace.js';
import { RefreshTokenRepository } from './refresh-token.repository.js';
import { generateRefreshTokenValue, hashRefreshToken, keepRowUntil, keyedSuccessorValue } from './refresh-token.js';
import { TokenErrorCode, invalidCredentials, refreshRejected } from './token-errors.js';

export type TokenPair = TokenPairResponseDto;

const QUARTER_HOUR_MS = 15 * 60_000;
const quarterHourOf = (at: Date): number => Math.floor(at.getTime() / QUARTER_HOUR_MS);

/** How often each replica deletes expired refresh tokens and old family revocations. */
export const REFRESH_TOKEN_SWEEP_MS = 600_000;
/**
 * How long a family revocation outlives the refresh-token lifetime: a rotation that read the family as live just
 * before it was revoked inserts one successor after it, which expires at most a lifetime after that insert.
 */
const REVOCATION_MARGIN_MS = 86_400_000;

@Injectable()
export class TokensService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(TokensService.name);
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly pace: RefreshPace;

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly users: UsersService,
    private readonly passwords: PasswordHasher,
    private readonly refreshTokens: RefreshTokenRepository,
    private readonly accessTokens: AccessTokenIssuer,
    private readonly outbox: OutboxService,
    private readonly signingKeys: SigningKeysService,
  ) {
    this.pace = new RefreshPace(config.refreshPace.burst, config.refreshPace.intervalSeconds * 1000);
  }

  onModuleInit(): void {
    // Every replica sweeps; deleting what another already deleted is harmless.
    this.sweepTimer = setInterval(() => void this.deleteExpired(), REFRESH_TOKEN_SWEEP_MS);
    this.sweepTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweepTimer);
  }

  /**
   * Deletes the refresh tokens that have expired (every login and every refresh inserts one, and none was ever
   * deleted: the collection grew by a row per rotation for good) and the family revocations no unexpired token
   * can belong to any more. An expired token is refused before anything else is read for it, so neither deletion
   * changes an answer. Returns how many rows went.
   */
  async deleteExpired(now = new Date()): Promise<number> {
    const revokedBefore = new Date(now.getTime() - this.config.jwt.refreshTokenTtlSeconds * 1000 - REVOCATION_MARGIN_MS);
    try {
      // The tokens first: a revocation goes only once its login has no token row left (deleteRevocationsBefore).
      const tokens = await this.refreshTokens.deleteExpiredBefore(now);
      return tokens + (await this.refreshTokens.deleteRevocationsBefore(revokedBefore));
    } catch (error) {
      this.logger.warn({ err: error }, 'could not delete expired refresh tokens or old revocations');
      return 0;
    }
  }

  /**
   * Unknown email and wrong password cost the same bcrypt compare and get the same answer. `request`: its client, whose
   * turn its password waits for, and its start-by time (startByOf): a crowd ahead (the store's reads, the password
   * gate's queue) may bring the session's write past it, when the gateway may already have answered 504; then
   * nothing is written (503, retry).
   */
  async login(email: string, password: string, request: PasswordRequest = {}): Promise<TokenPair> {
    const { startBy } = request;
    const credentials = await this.users.findCredentials(email);
    // Not started past the start-by time: 503 AUTH_BUSY before bcrypt, not a check whose session may not be written.
    const matches = await this.passwords.verify(password, credentials?.passwordHash, request);
    if (!credentials || !matches) throw invalidCredentials();
    refuseWriteAfterStartBy(startBy);
    const now = new Date();
    const familyId = this.refreshTokens.newId();
    const refreshToken = await this.storeRefreshToken(
      { id: familyId, userId: credentials.id, familyId, parentId: null, sessionEpoch: credentials.sessionEpoch },
      now,
    );
    // In the write path, before answering: a login answered 200 always has its LOGIN row. Delivery is the relay's job.
    await this.outbox.enqueueLogin(credentials.id, now);
    return this.pair(credentials, refreshToken, now);
  }

  /**
   * Rotation: the successor is inserted under the unique "one successor per token" index; losing that
   * insert means the presented token was already used, so the whole login (family) is revoked.
   *
   * With an `idempotencyKey` the successor is not random but made from the presented token and the key
   * (keyedSuccessorValue): a retry whose first answer was lost (the rotation stored, the answer a 503, a 504 or a
   * dropped connection) makes the same successor, loses the insert to it, and is answered that token again
   * instead of ending the login (keyedRetryVerdict: within KEYED_REFRESH_RETRY_MS, while the new token is unused).
   */
  async refresh(presentedToken: string, idempotencyKey?: string): Promise<TokenPair> {
    const now = new Date();
    const presented = await this.refreshTokens.findByHash(hashRefreshToken(presentedToken));
    const familyRevoked = presented ? await this.refreshTokens.isFamilyRevoked(presented.familyId) : false;
    const verdict = assessPresentedToken(presented, { familyRevoked, now });
    if (!verdict.usable) throw refreshRejected(verdict.rejection);
    const { token } = verdict;

    // Current roles, so a role change takes effect at the next access token.
    const user = await this.users.find(token.userId);
    if (!user) throw refreshRejected(TokenErrorCode.INVALID_REFRESH_TOKEN);
    // "Log out everywhere" bumped the epoch after this login began.
    if (token.sessionEpoch < user.sessionEpoch) throw refreshRejected(TokenErrorCode.INVALID_REFRESH_TOKEN);
    // A login that refreshed its burst is told when it may again, nothing written, the token still good. Unless the
    // token was rotated already: then no row is written either, and the answer must stay what it is (a keyed retry
    // answered again, or the reuse that ends the login, a thief's included).
    const waitSeconds = this.pace.waitSeconds(token.familyId, now.getTime());
    if (waitSeconds > 0 && !(await this.refreshTokens.hasSuccessor(token.id))) {
      throw tooManyRequests('refreshes of this login', waitSeconds);
    }

    const value =
      idempotencyKey === undefined
        ? generateRefreshTokenValue()
        : keyedSuccessorValue(this.signingKeys.refreshRetrySecret(), presentedToken, idempotencyKey);
    const tokenHash = hashRefreshToken(value);
    const expiresAt = this.refreshExpiry(now);
    const outcome = rotationOutcome(
      await this.refreshTokens.insert({
        id: this.refreshTokens.newId(),
        tokenHash,
        userId: token.userId,
        familyId: token.familyId,
        parentId: token.id,
        sessionEpoch: token.sessionEpoch,
        expiresAt,
        keepUntil: keepRowUntil(expiresAt, token),
        createdAt: now,
      }),
    );
    if (!outcome.rotated) {
      // A replay's access token is the first answer's again (issued at the rotation, not now): replays never
      // outlive the answer they stand for, so a thief holding the old token and its key gains no time by them.
      const replayOf = idempotencyKey === undefined ? undefined : await this.keyedRetryOf(token.id, tokenHash, now);
      if (replayOf) return this.pair(user, value, replayOf, now);
      // Taken for theft, so for staff it ends what a staff logout ends: the staff powers of every access token
      // issued before, a thief's among them (refreshed from the stolen token), which kept its staff writes (an
      // ADMIN's role changes included) for the rest of its 15 minutes after the login was revoked. Before the
      // revocation: when it cannot be done now (503, the user's lock busy), the retry finds the reuse again, where
      // after it the retry would find a revoked login and leave the thief's token its powers. Once the login is
      // revoked, the token presented again is refused above, so replays bump nothing.
      if (user.roles.some((role) => role !== Role.USER)) await this.users.endStaffAccess(user.id, user.accessVersion);
      await this.refreshTokens.revokeFamily(token.familyId, token.userId, 'REUSE_DETECTED', now);
      throw refreshRejected(outcome.rejection);
    }
    this.pace.spend(token.familyId, now.getTime());
    // A session resumed with a refresh token is a sign-in to the game as much as a password is (a game client
    // keeps its refresh token for weeks and opens with it): it counts for the login conditions alike. At most one
    // per quarter hour of a session (the presented token's own quarter hour has its LOGIN already: the login's or
    // an earlier refresh's), so a client refreshing in a loop records nothing more; and best effort: the
    // rotation is made, so a 503 now would send the client back with a spent token (REFRESH_TOKEN_REUSED, the
    // whole session revoked, unless it sent an Idempotency-Key). A lost one costs at most that quarter hour's login.
    if (quarterHourOf(token.createdAt) !== quarterHourOf(now)) {
      await this.outbox.enqueueLogin(token.userId, now).catch((error: unknown) => {
        this.logger.warn({ err: error, userId: token.userId }, 'the LOGIN of a refresh was not recorded');
      });
    }
    // The winner answers 200 even if a concurrent loser revokes the family a moment later: its new refresh
    // token is then dead at its next use, and its access token lives no longer than any other.
    return this.pair(user, value, now);
  }

  /** When the successor this request's token and key make was stored, if it may be answered again (else undefined). */
  private async keyedRetryOf(presentedId: string, tokenHash: string, now: Date): Promise<Date | undefined> {
    const successor = await this.refreshTokens.findSuccessor(presentedId);
    if (!successor || successor.tokenHash !== tokenHash) return undefined;
    const successorRotated = await this.refreshTokens.hasSuccessor(successor.id);
    return keyedRetryVerdict(successor, { tokenHash, successorRotated, now }) === 'replay' ? successor.createdAt : undefined;
  }

  /**
   * Ends the login the token belongs to, if it is the caller's; otherwise does nothing and says nothing. A
   * staff member's logout also ends the staff powers of the access tokens issued before it (UsersService
   * .endStaffAccess): one taken from a shared machine or a log must not keep its staff writes for the rest of
   * its 15 minutes after its owner logged out. Only while the presented access token is current: a replay of
   * a logout (its token stale since the first) changes nothing and takes no lock.
   */
  async logout(caller: AuthenticatedUser, presentedToken: string): Promise<void> {
    const token = await this.refreshTokens.findByHash(hashRefreshToken(presentedToken));
    if (!token || token.userId !== caller.id) return;
    await this.refreshTokens.revokeFamily(token.familyId, token.userId, 'LOGOUT', new Date());
    // Whatever ended the login before (a reuse detected, a logout whose bump failed), as long as this access
    // token is still current; a replay with a token made stale by the first bump does nothing.
    if (caller.roles.some((role) => role !== Role.USER)) await this.users.endStaffAccess(caller.id, caller.accessVersion ?? 0);
  }

  private async storeRefreshToken(
    token: { id: string; userId: string; familyId: string; parentId: string | null; sessionEpoch: number },
    now: Date,
  ): Promise<string> {
    const value = generateRefreshTokenValue();
    const expiresAt = this.refreshExpiry(now);
    await this.refreshTokens.insert({
      ...token,
      tokenHash: hashRefreshToken(value),
      expiresAt,
      keepUntil: keepRowUntil(expiresAt),
      createdAt: now,
    });
    return value;
  }

  private refreshExpiry(now: Date): Date {
    return new Date(now.getTime() + this.config.jwt.refreshTokenTtlSeconds * 1000);
  }

  /**
   * The answer: an access token issued at `issuedAt` (now, or for a keyed replay the first answer's time), and
   * `expiresIn` what is left of its lifetime now (the whole of it unless replayed).
   */
  private async pair(
    subject: { id: string; roles: Role[]; accessVersion: number },
    refreshToken: string,
    issuedAt: Date,
    now = issuedAt,
  ): Promise<TokenPair> {
    const elapsedSeconds = Math.floor(now.getTime() / 1000) - Math.floor(issuedAt.getTime() / 1000);
    return {
      accessToken: await this.accessTokens.issue(subject, issuedAt),
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: Math.max(0, this.accessTokens.ttlSeconds - elapsedSeconds),
    };
  }
}
