/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { LeafConditionType } from './LeafConditionType.js';
export type LeafProgressResponseDto = {
  /**
   * ACTIVITY_COUNT: the activity type counted
   */
  activity?: string;
  /**
   * How much the player has, counted up to `required`
   */
  current: number;
  met: boolean;
  /**
   * QUEST_CLEAR: the quest
   */
  questId?: string;
  required: number;
  type: LeafConditionType;
};
