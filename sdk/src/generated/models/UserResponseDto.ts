/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
export type UserResponseDto = {
  createdAt: string;
  email: string;
  id: string;
  nickname: string | null;
  /**
   * Give it to friends: registering with it counts as an invitation
   */
  referralCode: string;
  roles: Array<'USER' | 'OPERATOR' | 'AUDITOR' | 'ADMIN'>;
};
