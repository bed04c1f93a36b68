import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS, AUDIT_TARGET_TYPES, REPORTED_AUDIT_ACTIONS } from './audit-actions.js';

/** The rows of the audit log's table in docs/api-rules.md: each one's action and target type. */
function documentedRows(): Array<{ action: string; targetType: string }> {
  const doc = readFileSync(new URL('../../../docs/api-rules.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## The audit log'), doc.indexOf('\n## ', doc.indexOf('## The audit log') + 1));
  return [...section.matchAll(/^\| `([A-Z_]+)` +\| `(\w+)` /gm)].map(([, action, targetType]) => ({
    action: action as string,
    targetType: targetType as string,
  }));
}

describe('the audit action names', () => {
  it('are each documented once, with what their changes hold, and nothing else is', () => {
    const rows = documentedRows();
    expect(rows.map((row) => row.action)).toEqual([...AUDIT_ACTIONS]);
    expect(new Set(rows.map((row) => row.targetType))).toEqual(new Set(AUDIT_TARGET_TYPES));
  });

  it('include the names the auth server reports', () => {
    expect(REPORTED_AUDIT_ACTIONS.every((action) => AUDIT_ACTIONS.includes(action))).toBe(true);
  });
});
