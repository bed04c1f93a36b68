import type { PendingAudit } from '../audit/audit-log.service.js';
import type { RewardType } from './reward.schema.js';

/** A reward of an event as the rest of the server sees it. */
export interface RewardRecord {
  id: string;
  eventId: string;
  type: RewardType;
  name: string;
  quantity: number;
  stock?: number;
  itemCode?: string;
  couponCode?: string;
  /** This limited reward's units are recorded on the claims (`unitKey`), not as `reward_units` documents. */
  unitsOnClaims?: true;
  /** A change's audit entry not recorded yet (see PendingAudit); not shown by the API. */
  pendingAudit?: PendingAudit;
  createdAt: Date;
}
