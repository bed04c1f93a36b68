import { ValidateBy } from 'class-validator';
import { type PasswordContext, passwordProblem } from '../password-policy.js';

/** The body's other fields a chosen password is compared with: a registration's `email`, a change's `currentPassword`. */
function contextOf(body: unknown): PasswordContext {
  if (typeof body !== 'object' || body === null) return {};
  const { email, currentPassword } = body as { email?: unknown; currentPassword?: unknown };
  return { email, current: currentPassword };
}

/** A password one may choose (registration, a change): see passwordProblem. */
export function AcceptablePassword(): PropertyDecorator {
  return ValidateBy({
    name: 'acceptablePassword',
    validator: {
      validate: (value: unknown, args) =>
        typeof value === 'string' && passwordProblem(value, contextOf(args?.object)) === undefined,
      defaultMessage: (args) =>
        `${args?.property ?? 'password'} ${typeof args?.value === 'string' ? (passwordProblem(args.value, contextOf(args.object)) ?? '') : 'must be a string'}`,
    },
  });
}
