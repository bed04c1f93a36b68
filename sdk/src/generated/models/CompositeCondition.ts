/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { Condition } from './Condition.js';
/**
 * ALL: every sub-condition holds; ANY: at least one does. Depth counts condition objects from the top: the event's `condition` is level 1 and each ALL/ANY puts its `conditions` one level deeper; a condition (leaf or ALL/ANY) deeper than level 5 is refused (400). So at most 4 ALL/ANY can be nested around a leaf: ALL > ANY > ALL > ANY > LOGIN_DAYS is the deepest accepted chain. At most 20 entries in one `conditions` list and at most 20 leaf (non-ALL/ANY) conditions in the whole tree.
 */
export type CompositeCondition = {
  conditions: Array<Condition>;
  type: 'ALL' | 'ANY';
};
