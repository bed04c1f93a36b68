/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
export type LeafConditionType = 'LOGIN_DAYS' | 'LOGIN_STREAK' | 'INVITE_FRIENDS' | 'QUEST_CLEAR' | 'ACTIVITY_COUNT';
