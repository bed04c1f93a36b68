/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
export type ChangePasswordDto = {
  /**
   * The account's password now
   */
  currentPassword: string;
  /**
   * The new password, as at registration: hashed in Unicode NFC, at least 8 characters in NFC, at most 72 bytes (UTF-8) as typed and in NFC; no control characters; at least one visible character; not one of the most common passwords; at least 4 different characters, not a short or common part repeated; not the account's email or the part before its @; not the current password
   */
  newPassword: string;
};
