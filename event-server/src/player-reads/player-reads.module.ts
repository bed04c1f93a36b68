import { Module } from '@nestjs/common';
import { PlayerReads } from './player-reads.js';

/** One PlayerReads per process: the bound is a player's, whichever route they read. */
@Module({ providers: [PlayerReads], exports: [PlayerReads] })
export class PlayerReadsModule {}
