/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
export { RewardApiClient } from './RewardApiClient.js';

export { ApiError } from './core/ApiError.js';
export { BaseHttpRequest } from './core/BaseHttpRequest.js';
export { CancelablePromise, CancelError } from './core/CancelablePromise.js';
export { OpenAPI } from './core/OpenAPI.js';
export type { OpenAPIConfig } from './core/OpenAPI.js';

export type { ActivityBatchDto } from './models/ActivityBatchDto.js';
export type { ActivityCountCondition } from './models/ActivityCountCondition.js';
export type { ActivityInputDto } from './models/ActivityInputDto.js';
export type { ActivityPageResponseDto } from './models/ActivityPageResponseDto.js';
export type { ActivityResponseDto } from './models/ActivityResponseDto.js';
export type { ActivitySource } from './models/ActivitySource.js';
export type { ApprovalMode } from './models/ApprovalMode.js';
export type { AuditLogPageResponseDto } from './models/AuditLogPageResponseDto.js';
export type { AuditLogResponseDto } from './models/AuditLogResponseDto.js';
export type { ClaimPageResponseDto } from './models/ClaimPageResponseDto.js';
export type { ClaimReason } from './models/ClaimReason.js';
export type { ClaimResponseDto } from './models/ClaimResponseDto.js';
export type { ClaimRewardResponseDto } from './models/ClaimRewardResponseDto.js';
export type { ClaimStatus } from './models/ClaimStatus.js';
export type { CompositeCondition } from './models/CompositeCondition.js';
export type { Condition } from './models/Condition.js';
export type { CreateEventDto } from './models/CreateEventDto.js';
export type { CreateRewardDto } from './models/CreateRewardDto.js';
export type { ErrorBody } from './models/ErrorBody.js';
export type { EventDetailResponseDto } from './models/EventDetailResponseDto.js';
export type { EventPageResponseDto } from './models/EventPageResponseDto.js';
export type { EventResponseDto } from './models/EventResponseDto.js';
export type { EventStatus } from './models/EventStatus.js';
export type { HealthReportDto } from './models/HealthReportDto.js';
export type { ImportResultResponseDto } from './models/ImportResultResponseDto.js';
export type { InviteFriendsCondition } from './models/InviteFriendsCondition.js';
export type { JwkResponseDto } from './models/JwkResponseDto.js';
export type { JwksResponseDto } from './models/JwksResponseDto.js';
export type { LeafConditionType } from './models/LeafConditionType.js';
export type { LeafProgressResponseDto } from './models/LeafProgressResponseDto.js';
export type { LoginDaysCondition } from './models/LoginDaysCondition.js';
export type { LoginDto } from './models/LoginDto.js';
export type { LoginStreakCondition } from './models/LoginStreakCondition.js';
export type { ProgressResponseDto } from './models/ProgressResponseDto.js';
export type { QuestClearCondition } from './models/QuestClearCondition.js';
export type { RefreshTokenDto } from './models/RefreshTokenDto.js';
export type { RegisterUserDto } from './models/RegisterUserDto.js';
export type { ReviewNoteDto } from './models/ReviewNoteDto.js';
export type { RewardResponseDto } from './models/RewardResponseDto.js';
export type { RewardType } from './models/RewardType.js';
export type { Role } from './models/Role.js';
export type { ServiceStatesDto } from './models/ServiceStatesDto.js';
export type { TokenPairResponseDto } from './models/TokenPairResponseDto.js';
export type { UpdateEventDto } from './models/UpdateEventDto.js';
export type { UpdateRolesDto } from './models/UpdateRolesDto.js';
export type { UserPageResponseDto } from './models/UserPageResponseDto.js';
export type { UserResponseDto } from './models/UserResponseDto.js';

export { ActivitiesService } from './services/ActivitiesService.js';
export { AuditLogsService } from './services/AuditLogsService.js';
export { AuthService } from './services/AuthService.js';
export { ClaimsService } from './services/ClaimsService.js';
export { EventsService } from './services/EventsService.js';
export { GatewayService } from './services/GatewayService.js';
export { UsersService } from './services/UsersService.js';
