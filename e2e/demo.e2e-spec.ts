import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoResult, runDemo } from '../scripts/demo.js';
import { ADMIN, type Stack, startStack } from './support/stack.js';

describe('npm run demo (scripts/demo.ts) against the stack, through the SDK only', () => {
  let stack: Stack;
  let result: DemoResult;
  const story: string[] = [];

  beforeAll(async () => {
    stack = await startStack('demo');
    result = await runDemo({
      gatewayUrl: stack.gatewayUrl,
      adminEmail: ADMIN.email,
      adminPassword: ADMIN.password,
      log: (line) => story.push(line),
    });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('creates the staff accounts with their roles', () => {
    expect(result.operator.roles).toEqual(['OPERATOR']);
    expect(result.auditor.roles).toEqual(['AUDITOR']);
  });

  it('grants the AUTO event claim at once and takes one from the limited stock', () => {
    expect(result.eligibleBeforeClaim).toBe(true);
    expect(result.autoClaim).toMatchObject({ status: 'GRANTED', eventId: result.autoEvent.id, userId: result.player.id });
    expect(result.autoClaim.rewards.map((reward) => reward.rewardId)).toEqual([result.autoEvent.rewardId]);
    expect(result.autoEvent.remainingAfterClaim).toBe(99);
  });

  it('holds the MANUAL event claim until the operator approves it', () => {
    expect(result.pendingClaim.status).toBe('PENDING');
    expect(result.approvedClaim).toMatchObject({ id: result.pendingClaim.id, status: 'GRANTED', decidedBy: result.operator.id });
  });

  it('lets the auditor list and export both claims', () => {
    expect(result.auditorSeesClaims).toBe(2);
    const rows = result.csv.trim().split('\n');
    expect(rows).toHaveLength(3);
    expect(rows.slice(1).join('\n')).toContain(result.autoClaim.id);
    expect(rows.slice(1).join('\n')).toContain(result.approvedClaim.id);
  });

  it('tells the story one line per step', () => {
    expect(story).toHaveLength(13);
    expect(story[0]).toContain(ADMIN.email);
    expect(story[8]).toContain('GRANTED');
    expect(story[9]).toContain('PENDING');
    expect(story[12]).toContain('2 rows');
  });
});
