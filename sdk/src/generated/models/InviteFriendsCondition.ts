/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
/**
 * At least `count` friends registered with the user's referral code within the event period
 */
export type InviteFriendsCondition = {
  count: number;
  type: 'INVITE_FRIENDS';
};
