/** What every test database's name starts with, then the run's id (see global-setup.ts and database.ts). */
export const TEST_DATABASE_PREFIX = 't_';
