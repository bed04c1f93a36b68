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
 * What a player must have done within the event period to claim its rewards
 */
export type Condition =
  | LoginDaysCondition
  | LoginStreakCondition
  | InviteFriendsCondition
  | QuestClearCondition
  | ActivityCountCondition
  | CompositeCondition;
