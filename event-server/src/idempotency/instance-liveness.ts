import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { type Beat, MISSED_BEATS_FOR_NO_OWNER, isOwnerDead } from './instance-liveness.rules.js';
import { InstanceEntity } from './instance.schema.js';

/** Records of instances silent for this long are deleted when a process starts. */
const FORGET_INSTANCES_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * This process's identity among the replicas, and their liveness. Each process inserts a record of its own
 * (a random id) and updates its `beatAt` every `heartbeatMs`; only it writes that record, so the update
 * needs no atomicity. The Idempotency-Keys it takes name it as their owner, while its own beats succeed
 * (a process whose beats fail, the store being slow or away, names itself on no new key: those fall back to
 * the reconciler's staleness). A key still IN_PROGRESS whose owner is dead (isOwnerDead) was left by a
 * process that died: SIGKILL, a crash, a lost host. It beats until its HTTP side has closed, so the
 * requests it still answers while stopping keep their keys. Judging a stalled owner dead costs no
 * invariant (the retry's claim insert meets the unique slot) nor a contradiction: the retry and the
 * stalled owner, should it wake, record the key's claim under one id (keyedClaimId), so the second is
 * refused and answers with the first's claim (ClaimsService.recordRefusal). With `heartbeatMs`
 * 0 this process never beats and its keys name no owner.
 */
@Injectable()
export class InstanceLiveness implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(InstanceLiveness.name);
  readonly id = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  /** When the last beat (or the record's insert) was stored; undefined while none was. */
  private lastBeatAt: number | undefined;
  private beating = false;
  private failing = false;

  constructor(
    @Inject(EVENT_CONFIG) private readonly config: EventConfig,
    @InjectModel(InstanceEntity.name) private readonly model: Model<InstanceEntity>,
  ) {}

  private get heartbeatMs(): number {
    return this.config.claims.heartbeatMs;
  }

  /** The owner to write on a key this process takes now: undefined unless its beats are being stored. */
  get owner(): string | undefined {
    const recent = this.lastBeatAt !== undefined && Date.now() - this.lastBeatAt <= MISSED_BEATS_FOR_NO_OWNER * this.heartbeatMs;
    return this.timer !== undefined && recent ? this.id : undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.heartbeatMs === 0) return;
    const now = new Date();
    await this.model.deleteMany({ beatAt: { $lt: new Date(now.getTime() - FORGET_INSTANCES_AFTER_MS) } }).exec();
    await this.model.create({ _id: this.id, startedAt: now, beatAt: now, heartbeatMs: this.heartbeatMs });
    this.lastBeatAt = now.getTime();
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Whether the owner a key names is dead; a key that names none is never judged here. */
  async isDead(owner: string | undefined): Promise<boolean> {
    if (owner === undefined) return false;
    const record = await this.model.findOne({ _id: owner }, { beatAt: 1, heartbeatMs: 1 }).lean<Beat>().exec();
    return isOwnerDead(record ?? undefined, Date.now());
  }

  /** One beat at a time: a beat still pending (a slow store) is not joined by another. */
  private async beat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    const at = new Date();
    try {
      await this.model.updateOne({ _id: this.id }, { $set: { beatAt: at } }).exec();
      this.lastBeatAt = at.getTime();
      if (this.failing) this.logger.log('heartbeat stored again');
      this.failing = false;
    } catch (error) {
      // A beat cut off by this process's own shutdown (the store's connection closed under it) is no problem.
      if (this.timer === undefined) return;
      // Said once per failing spell, not once per beat.
      if (!this.failing) this.logger.warn(`heartbeat not stored: ${(error as Error).message}`);
      this.failing = true;
    } finally {
      this.beating = false;
    }
  }
}
