/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
export type ActivityInputDto = {
  /**
   * Small facts (at most 4096 bytes of JSON; keys may not start with $ or contain a dot); a QUEST_CLEAR needs questId, a string of at most 128 characters
   */
  attributes?: Record<string, any>;
  /**
   * Makes the import idempotent: the same externalId twice records one activity; not blank (only spaces or invisible characters)
   */
  externalId?: string;
  /**
   * Default now; not in the future; with its zone (Z or an offset)
   */
  occurredAt?: string;
  /**
   * LOGIN, FRIEND_INVITE, QUEST_CLEAR (needs attributes.questId) or any other upper-case word
   */
  type: string;
  /**
   * The player
   */
  userId: string;
};
