/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { LeafProgressResponseDto } from './LeafProgressResponseDto.js';
export type ProgressResponseDto = {
  /**
   * One entry per leaf condition
   */
  conditions: Array<LeafProgressResponseDto>;
  /**
   * Whether the condition holds now (a claim would pass the condition check)
   */
  eligible: boolean;
  eventId: string;
  userId: string;
};
