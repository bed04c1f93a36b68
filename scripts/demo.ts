// The platform's story told through the typed SDK only: `npm run demo` against a running gateway.
//   GATEWAY_URL, else the README's API, else http://localhost:$GATEWAY_PORT (3000 when unset), as `npm start`
//   runs it; ADMIN_EMAIL / ADMIN_PASSWORD (the seeded ADMIN, as the auth server reads them).
// Node 24 runs this file directly (type stripping), so it keeps to erasable TypeScript syntax.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ApiError, type ClaimResponseDto, type Condition, createRewardClient, type RewardClient, type Role } from '@reward/sdk';

export interface DemoOptions {
  gatewayUrl: string;
  adminEmail: string;
  adminPassword: string;
  log: (line: string) => void;
}

export interface DemoResult {
  operator: { id: string; email: string; roles: string[] };
  auditor: { id: string; email: string; roles: string[] };
  player: { id: string; email: string };
  autoEvent: { id: string; rewardId: string; remainingAfterClaim: number | null };
  manualEvent: { id: string; rewardId: string };
  eligibleBeforeClaim: boolean;
  autoClaim: ClaimResponseDto;
  pendingClaim: ClaimResponseDto;
  approvedClaim: ClaimResponseDto;
  auditorSeesClaims: number;
  csv: string;
}

const DAY_MS = 86_400_000;

export async function runDemo({ gatewayUrl, adminEmail, adminPassword, log }: DemoOptions): Promise<DemoResult> {
  const run = randomUUID().slice(0, 8);
  const client = (): RewardClient => createRewardClient({ baseUrl: gatewayUrl });

  const admin = client();
  await admin.login(adminEmail, adminPassword);
  const me = await admin.users.getMe();
  log(`1. ADMIN ${me.email} logged in (roles ${me.roles.join(', ')})`);

  /** A new account with the given role (given by the ADMIN), logged in afresh so its token carries the role. */
  const staff = async (role: Role): Promise<{ api: RewardClient; user: DemoResult['operator'] }> => {
    const email = `demo.${role.toLowerCase()}.${run}@example.com`;
    const password = `demo-${run}-password`;
    const registered = await admin.auth.register({ requestBody: { email, password, nickname: `${role.toLowerCase()}-${run}` } });
    const updated = await admin.users.updateUserRoles({ id: registered.id, requestBody: { roles: [role] } });
    const api = client();
    await api.login(email, password);
    return { api, user: { id: updated.id, email, roles: updated.roles } };
  };
  const operator = await staff('OPERATOR');
  log(`2. ADMIN created OPERATOR ${operator.user.email} (${operator.user.id})`);
  const auditor = await staff('AUDITOR');
  log(`3. ADMIN created AUDITOR ${auditor.user.email} (${auditor.user.id})`);

  const playerEmail = `demo.player.${run}@example.com`;
  const player = client();
  const playerUser = await player.auth.register({ requestBody: { email: playerEmail, password: `demo-${run}-password` } });
  await player.login(playerEmail, `demo-${run}-password`);
  log(`4. PLAYER ${playerEmail} signed up (${playerUser.id})`);

  const now = Date.now();
  const period = { startAt: new Date(now - DAY_MS).toISOString(), endAt: new Date(now + 7 * DAY_MS).toISOString() };
  const wins: Condition = { type: 'ACTIVITY_COUNT', activity: 'DEMO_MATCH_WON', count: 3 };
  const autoEvent = await operator.api.events.createEvent({
    // Created closed and opened once its reward is there: a claim is decided with the rewards the event has then.
    requestBody: { title: `Win 3 matches (${run})`, ...period, status: 'INACTIVE', approval: 'AUTO', condition: wins },
  });
  const coupon = await operator.api.events.addReward({
    id: autoEvent.id,
    requestBody: { type: 'COUPON', name: 'Winter coupon', quantity: 1, couponCode: `WINTER-${run}`, stock: 100 },
  });
  await operator.api.events.updateEvent({ id: autoEvent.id, requestBody: { status: 'ACTIVE' } });
  log(
    `5. OPERATOR created AUTO event "${autoEvent.title}" (3 x DEMO_MATCH_WON) with reward "${coupon.name}", stock ${coupon.stock}, and opened it`,
  );

  const quest: Condition = {
    type: 'ALL',
    conditions: [{ type: 'QUEST_CLEAR', questId: `dragon-${run}` }, wins],
  };
  const manualEvent = await operator.api.events.createEvent({
    requestBody: { title: `Slay the dragon (${run})`, ...period, status: 'INACTIVE', approval: 'MANUAL', condition: quest },
  });
  const sword = await operator.api.events.addReward({
    id: manualEvent.id,
    requestBody: { type: 'ITEM', name: 'Dragon sword', quantity: 1, itemCode: 'SWORD-DRAGON', stock: 5 },
  });
  await operator.api.events.updateEvent({ id: manualEvent.id, requestBody: { status: 'ACTIVE' } });
  log(
    `6. OPERATOR created MANUAL event "${manualEvent.title}" (quest + 3 wins) with reward "${sword.name}", stock ${sword.stock}, and opened it`,
  );

  const imported = await operator.api.activities.importActivities({
    requestBody: {
      items: [
        ...[1, 2, 3].map((n) => ({ userId: playerUser.id, type: 'DEMO_MATCH_WON', externalId: `demo-${run}-win-${n}` })),
        { userId: playerUser.id, type: 'QUEST_CLEAR', attributes: { questId: `dragon-${run}` }, externalId: `demo-${run}-quest` },
      ],
    },
  });
  log(`7. OPERATOR imported activities for the player: ${imported.inserted} inserted, ${imported.duplicates} duplicates`);

  const progress = await player.events.getProgress({ id: autoEvent.id });
  const facts = progress.conditions.map((leaf) => `${leaf.type} ${leaf.current}/${leaf.required}`).join(', ');
  log(`8. PLAYER checked progress on "${autoEvent.title}": ${facts}, eligible ${progress.eligible}`);

  const autoClaim = await player.claims.claimReward({ id: autoEvent.id, idempotencyKey: `demo-${run}-auto` });
  const [afterClaim] = (await player.events.listRewards({ id: autoEvent.id })).filter((reward) => reward.id === coupon.id);
  log(
    `9. PLAYER claimed "${autoEvent.title}": ${autoClaim.status} (${autoClaim.rewards.map((r) => r.name).join(', ')}); stock left ${afterClaim?.remaining}`,
  );

  const pendingClaim = await player.claims.claimReward({ id: manualEvent.id });
  log(`10. PLAYER claimed "${manualEvent.title}": ${pendingClaim.status}, waiting for review`);
  const approvedClaim = await operator.api.claims.approveClaim({ id: pendingClaim.id });
  log(`11. OPERATOR approved claim ${approvedClaim.id}: ${approvedClaim.status}`);

  const listed = await auditor.api.claims.listClaims({ userId: playerUser.id });
  const summary = listed.items.map((claim) => claim.status).join(', ');
  log(`12. AUDITOR listed the player's claims: ${listed.total} (${summary})`);
  const csv = await auditor.api.claims.exportClaims({ userId: playerUser.id });
  const rows = csv.trim().split('\n');
  log(`13. AUDITOR exported them as CSV: ${rows.length - 1} rows, columns ${rows[0]}`);

  return {
    operator: operator.user,
    auditor: auditor.user,
    player: { id: playerUser.id, email: playerEmail },
    autoEvent: { id: autoEvent.id, rewardId: coupon.id, remainingAfterClaim: afterClaim?.remaining ?? null },
    manualEvent: { id: manualEvent.id, rewardId: sword.id },
    eligibleBeforeClaim: progress.eligible,
    autoClaim,
    pendingClaim,
    approvedClaim,
    auditorSeesClaims: listed.total,
    csv,
  };
}

/** What went wrong, in one line: the API's error code and message when the gateway answered. */
export function describeFailure(error: unknown): string {
  if (error instanceof ApiError) {
    const body = error.body as { code?: string; message?: string } | undefined;
    return `${error.request.method} ${error.url} -> ${error.status} ${body?.code ?? error.statusText}: ${body?.message ?? error.message}`;
  }
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const given = (name: string): string | undefined => process.env[name]?.trim() || undefined;
  const gatewayUrl = given('GATEWAY_URL') ?? given('API') ?? `http://localhost:${given('GATEWAY_PORT') ?? '3000'}`;
  try {
    await runDemo({
      gatewayUrl,
      adminEmail: given('ADMIN_EMAIL') ?? 'admin@example.com',
      adminPassword: given('ADMIN_PASSWORD') ?? 'change-me-admin-password',
      log: (line) => console.log(line),
    });
    console.log('demo: done');
  } catch (error) {
    console.error(`demo failed against ${gatewayUrl}: ${describeFailure(error)}`);
    if (!(error instanceof ApiError))
      console.error('is the stack running there? (npm start, docker compose up; or set GATEWAY_URL)');
    process.exitCode = 1;
  }
}
