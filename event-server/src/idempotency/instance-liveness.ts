import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';

/** A running event-server process and when it last said it was alive. */
@Schema({ collection: 'event_server_instances', versionKey: false })
export class InstanceEntity {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ required: true }) startedAt!: Date;
  @Prop({ required: true }) beatAt!: Date;
  /** How often it beats: its silence is judged against its own rhythm. */
  @Prop({ required: true }) heartbeatMs!: number;
}

export const InstanceSchema = SchemaFactory.createForClass(InstanceEntity);
InstanceSchema.index({ beatAt: 1 });

/** An owner is dead once it has not beaten for this many heartbeats. */
export const MISSED_BEATS_FOR_DEAD = 5;
/** Records of instances silent for this long are deleted when a process starts. */
const FORGET_INSTANCES_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * This process's identity among the replicas, and their liveness. Each process inserts a record of its own
 * (a random id) and updates its `beatAt` every `heartbeatMs`; only it writes that record, so the update
 * needs no atomicity. The Idempotency-Keys it takes name it as their owner: a key still IN_PROGRESS whose
 * owner has been silent for MISSED_BEATS_FOR_DEAD heartbeats (by the reader's clock: replicas' clocks are
 * assumed to agree within a heartbeat or so) was left by a process that died (SIGKILL, a crash, a lost
 * host). Judging a live but stalled owner dead costs no invariant: the retry's claim insert still meets the
 * unique slot. With `heartbeatMs` 0 this process beats never and its keys name no owner.
 */
@Injectable()
export class InstanceLiveness implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(InstanceLiveness.name);
  readonly id = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  private registered = false;

  constructor(
    @Inject(EVENT_CONFIG) private readonly config: EventConfig,
    @InjectModel(InstanceEntity.name) private readonly model: Model<InstanceEntity>,
  ) {}

  private get heartbeatMs(): number {
    return this.config.claims.heartbeatMs;
  }

  /** The owner to write on a key this process takes: undefined while it does not beat. */
  get owner(): string | undefined {
    return this.registered ? this.id : undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.heartbeatMs === 0) return;
    const now = new Date();
    await this.model.deleteMany({ beatAt: { $lt: new Date(now.getTime() - FORGET_INSTANCES_AFTER_MS) } }).exec();
    await this.model.create({ _id: this.id, startedAt: now, beatAt: now, heartbeatMs: this.heartbeatMs });
    this.registered = true;
    this.timer = setInterval(() => {
      this.model
        .updateOne({ _id: this.id }, { $set: { beatAt: new Date() } })
        .exec()
        .catch((error: unknown) => this.logger.warn(`heartbeat not recorded: ${(error as Error).message}`));
    }, this.heartbeatMs).unref();
  }

  onModuleDestroy(): void {
    // Requests still being answered keep their keys: the record goes silent and counts as dead only later.
    clearInterval(this.timer);
    this.registered = false;
  }

  /** Whether the owner of a key has beaten lately; an owner with no record (or none named) is not judged. */
  async isDead(owner: string | undefined): Promise<boolean> {
    if (owner === undefined) return false;
    const record = await this.model
      .findOne({ _id: owner }, { beatAt: 1, heartbeatMs: 1 })
      .lean<{ beatAt: Date; heartbeatMs: number }>()
      .exec();
    if (!record) return true;
    const silentForMs = Date.now() - new Date(record.beatAt).getTime();
    return silentForMs > MISSED_BEATS_FOR_DEAD * record.heartbeatMs;
  }
}
