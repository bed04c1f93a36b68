/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { ActivityCountCondition } from './ActivityCountCondition.js';
import type { CompositeCondition } from './CompositeCondition.js';
import type { InviteFriendsCondition } from './InviteFriendsCondition.js';
import type { LoginDaysCondition } from './LoginDaysCondition.js';
import type { LoginStreakCondition } from './LoginStreakCondition.js';
import type { QuestClearCondition } from './QuestClearCondition.js';
/**
 * What a player must have done within the event period to claim its rewards. Depth counts condition objects from the top: the event's `condition` is level 1 and each ALL/ANY puts its `conditions` one level deeper; a condition (leaf or ALL/ANY) deeper than level 5 is refused (400). So at most 4 ALL/ANY can be nested around a leaf: ALL > ANY > ALL > ANY > LOGIN_DAYS is the deepest accepted chain.
 */
export type Condition =
  | LoginDaysCondition
  | LoginStreakCondition
  | InviteFriendsCondition
  | QuestClearCondition
  | ActivityCountCondition
  | CompositeCondition;
