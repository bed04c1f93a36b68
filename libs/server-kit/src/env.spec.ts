import { describe, expect, it } from 'vitest';
import { ConfigError, EnvReader } from './env.js';

describe('EnvReader', () => {
  it('uses defaults for absent or blank variables', () => {
    const reader = new EnvReader({ PORT: ' ' });
    expect(reader.port('PORT', 3001)).toBe(3001);
    expect(reader.string('NAME', { default: 'x' })).toBe('x');
    reader.done();
  });

  it('names every malformed or missing variable at once', () => {
    const reader = new EnvReader({ PORT: 'abc', URL: 'not a url', MODE: 'loud' });
    reader.port('PORT', 1);
    reader.url('URL');
    reader.oneOf('MODE', ['quiet', 'normal']);
    reader.string('SECRET');
    let error: unknown;
    try {
      reader.done();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/PORT[\s\S]*URL[\s\S]*MODE[\s\S]*SECRET is required/);
  });

  it('requires production-only variables in production only', () => {
    const dev = new EnvReader({});
    expect(dev.string('ADMIN_EMAIL', { default: 'a@b.c', requiredInProduction: true })).toBe('a@b.c');
    dev.done();
    const prod = new EnvReader({ NODE_ENV: 'production' });
    prod.string('ADMIN_EMAIL', { default: 'a@b.c', requiredInProduction: true });
    expect(() => prod.done()).toThrow(/ADMIN_EMAIL is required in production/);
  });

  it('rejects integers out of range and fractions', () => {
    const reader = new EnvReader({ A: '70000', B: '1.5' });
    reader.port('A', 1);
    reader.int('B', { default: 1 });
    expect(() => reader.done()).toThrow(/A must be[\s\S]*B must be/);
  });
});
