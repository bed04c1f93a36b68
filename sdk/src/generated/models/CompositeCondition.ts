/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { Condition } from './Condition.js';
/**
 * ALL: every sub-condition holds; ANY: at least one does. Nestable up to 5 levels, at most 20 leaves in all
 */
export type CompositeCondition = {
  conditions: Array<Condition>;
  type: 'ALL' | 'ANY';
};
