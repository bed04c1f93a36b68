import { describe, expect, it } from 'vitest';
import { Role, hasRequiredRole, isRole, requiresRolesMessage } from './roles.js';

describe('hasRequiredRole', () => {
  it('lets any authenticated user through when no role is required', () => {
    expect(hasRequiredRole([Role.USER], [])).toBe(true);
  });

  it('requires one of the listed roles', () => {
    expect(hasRequiredRole([Role.USER], [Role.OPERATOR])).toBe(false);
    expect(hasRequiredRole([Role.USER, Role.OPERATOR], [Role.OPERATOR, Role.AUDITOR])).toBe(true);
    expect(hasRequiredRole([Role.AUDITOR], [Role.OPERATOR])).toBe(false);
    expect(hasRequiredRole([], [Role.USER])).toBe(false);
  });

  it('lets ADMIN do everything', () => {
    expect(hasRequiredRole([Role.ADMIN], [Role.OPERATOR])).toBe(true);
    expect(hasRequiredRole([Role.ADMIN], [Role.AUDITOR, Role.USER])).toBe(true);
  });

  it('knows the four roles and nothing else', () => {
    expect(['USER', 'OPERATOR', 'AUDITOR', 'ADMIN'].every(isRole)).toBe(true);
    expect(isRole('ROOT')).toBe(false);
    expect(isRole('admin')).toBe(false);
  });
});

describe('requiresRolesMessage', () => {
  it('names ADMIN among the roles that may call a route, once', () => {
    expect(requiresRolesMessage([Role.OPERATOR])).toBe('Requires one of the roles: OPERATOR, ADMIN');
    expect(requiresRolesMessage([Role.OPERATOR, Role.AUDITOR])).toBe('Requires one of the roles: OPERATOR, AUDITOR, ADMIN');
    expect(requiresRolesMessage([Role.ADMIN])).toBe('Requires one of the roles: ADMIN');
  });
});
