/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
/**
 * IMPORT (POST /activities) or AUTH (logins, invites)
 */
export type ActivitySource = 'IMPORT' | 'AUTH';
