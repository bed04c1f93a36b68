/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
/**
 * A QUEST_CLEAR activity with this `questId` within the event period
 */
export type QuestClearCondition = {
  questId: string;
  type: 'QUEST_CLEAR';
};
