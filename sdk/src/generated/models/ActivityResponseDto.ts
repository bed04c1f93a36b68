/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { ActivitySource } from './ActivitySource.js';
export type ActivityResponseDto = {
  attributes?: Record<string, any>;
  createdAt: string;
  /**
   * The importer's id, or a generated one
   */
  externalId: string;
  id: string;
  occurredAt: string;
  /**
   * Id of the operator or the name of the server that recorded it
   */
  recordedBy: string;
  /**
   * IMPORT (POST /activities) or AUTH (logins, invites)
   */
  source: ActivitySource;
  type: string;
  userId: string;
};
