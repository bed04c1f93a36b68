import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { type Model, trusted } from 'mongoose';
import { LoginAttemptDocument } from './login-attempt.schema.js';

/** Operators are wrapped in `trusted()`: the connection sanitises filters (sanitizeFilter) against injection. */
@Injectable()
export class LoginAttemptRepository implements OnModuleInit {
  constructor(@InjectModel(LoginAttemptDocument.name) private readonly model: Model<LoginAttemptDocument>) {}

  async onModuleInit(): Promise<void> {
    await this.model.init();
  }

  async record(ip: string, at: Date): Promise<void> {
    await this.model.create({ ip, at });
  }

  /** Times of the client's newest attempts after `since`, newest first. */
  async findRecentTimes(ip: string, since: Date, max: number): Promise<Date[]> {
    const documents = await this.model
      .find({ ip, at: trusted({ $gt: since }) })
      .sort({ at: -1 })
      .limit(max)
      .select({ at: 1, _id: 0 })
      .lean<Array<Pick<LoginAttemptDocument, 'at'>>>()
      .exec();
    return documents.map((document) => document.at);
  }

  async deleteOlderThan(before: Date): Promise<number> {
    const result = await this.model.deleteMany({ at: trusted({ $lt: before }) }).exec();
    return result.deletedCount;
  }
}
