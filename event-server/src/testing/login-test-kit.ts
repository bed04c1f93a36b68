import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import type { EventTestApp } from './event-test-app.js';

/** The app's database, for what a test writes or reads behind the API. */
export function storeOf(app: EventTestApp): NonNullable<Connection['db']> {
  return app.app.get<Connection>(getConnectionToken()).db!;
}

/**
 * LOGINs written straight into the store without their quarter-hour marks, as a crash between a login's two
 * inserts, or a version without marks, left them: at these instants, recorded at `createdAt` (now by default).
 */
export async function recordLoginsWithoutMarks(
  app: EventTestApp,
  userId: string,
  instants: Array<string | Date>,
  createdAt = new Date(),
): Promise<void> {
  await storeOf(app)
    .collection('activities')
    .insertMany(
      instants.map((at, index) => ({
        userId,
        type: 'LOGIN',
        occurredAt: new Date(at),
        externalId: `unmarked-${userId}-${index}`,
        source: 'AUTH',
        recordedBy: 'auth-server',
        createdAt,
      })),
    );
}

/** How many quarter-hour marks the player has. */
export function marksOf(app: EventTestApp, userId: string): Promise<number> {
  return storeOf(app).collection('login_quarters').countDocuments({ userId });
}
