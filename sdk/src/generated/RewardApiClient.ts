/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { BaseHttpRequest } from './core/BaseHttpRequest.js';
import type { OpenAPIConfig } from './core/OpenAPI.js';
import { FetchHttpRequest } from './core/FetchHttpRequest.js';
import { ActivitiesService } from './services/ActivitiesService.js';
import { AuditLogsService } from './services/AuditLogsService.js';
import { AuthService } from './services/AuthService.js';
import { ClaimsService } from './services/ClaimsService.js';
import { EventsService } from './services/EventsService.js';
import { GatewayService } from './services/GatewayService.js';
import { UsersService } from './services/UsersService.js';
import { WebhooksService } from './services/WebhooksService.js';
type HttpRequestConstructor = new (config: OpenAPIConfig) => BaseHttpRequest;
export class RewardApiClient {
  public readonly activities: ActivitiesService;
  public readonly auditLogs: AuditLogsService;
  public readonly auth: AuthService;
  public readonly claims: ClaimsService;
  public readonly events: EventsService;
  public readonly gateway: GatewayService;
  public readonly users: UsersService;
  public readonly webhooks: WebhooksService;
  public readonly request: BaseHttpRequest;
  constructor(config?: Partial<OpenAPIConfig>, HttpRequest: HttpRequestConstructor = FetchHttpRequest) {
    this.request = new HttpRequest({
      BASE: config?.BASE ?? 'http://localhost:3000',
      VERSION: config?.VERSION ?? '1',
      WITH_CREDENTIALS: config?.WITH_CREDENTIALS ?? false,
      CREDENTIALS: config?.CREDENTIALS ?? 'include',
      TOKEN: config?.TOKEN,
      USERNAME: config?.USERNAME,
      PASSWORD: config?.PASSWORD,
      HEADERS: config?.HEADERS,
      ENCODE_PATH: config?.ENCODE_PATH,
    });
    this.activities = new ActivitiesService(this.request);
    this.auditLogs = new AuditLogsService(this.request);
    this.auth = new AuthService(this.request);
    this.claims = new ClaimsService(this.request);
    this.events = new EventsService(this.request);
    this.gateway = new GatewayService(this.request);
    this.users = new UsersService(this.request);
    this.webhooks = new WebhooksService(this.request);
  }
}
