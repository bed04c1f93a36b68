/**
 * What `npm run bench` times on its own beside the HTTP API, to tell the store's share and the
 * evaluator's share apart: the repositories it reads through and the pure condition evaluator.
 */
export { ActivityRepository } from './activities/activity.repository.js';
export { ClaimRepository } from './claims/claim.repository.js';
export { evaluateCondition, factPlanOf } from './conditions/condition.evaluator.js';
