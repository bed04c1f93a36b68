/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
export type ReviewNoteDto = {
  /**
   * Not only spaces or invisible characters
   */
  note: string;
};
