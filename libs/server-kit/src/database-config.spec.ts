import { describe, expect, it } from 'vitest';
import { readDatabase } from './database-config.js';
import { EnvReader } from './env.js';

function problemsOf(env: Record<string, string>): string[] {
  const reader = new EnvReader(env);
  readDatabase(reader, 'AUTH', 'auth');
  try {
    reader.done();
    return [];
  } catch (error) {
    return (error as { problems: string[] }).problems;
  }
}

describe('readDatabase', () => {
  it('takes MONGODB_URI and the database name, with their defaults', () => {
    expect(readDatabase(new EnvReader({}), 'AUTH', 'auth')).toEqual({ uri: 'mongodb://127.0.0.1:27017/', dbName: 'auth' });
    const given = { MONGODB_URI: ' mongodb://reader:p%40ss@db-1:27017,db-2:27017/?replicaSet=rs0 ', AUTH_DB_NAME: 'auth_2' };
    expect(readDatabase(new EnvReader(given), 'AUTH', 'auth')).toEqual({
      uri: 'mongodb://reader:p%40ss@db-1:27017,db-2:27017/?replicaSet=rs0',
      dbName: 'auth_2',
    });
    expect(problemsOf(given)).toEqual([]);
    expect(problemsOf({ MONGODB_URI: 'mongodb+srv://reader:secret@cluster0.example.net/' })).toEqual([]);
  });

  it("refuses a URI the driver cannot read as a malformed setting, in the driver's words and without the password", () => {
    const refusals: [string, RegExp][] = [
      ['127.0.0.1:27017', /^MONGODB_URI is malformed: Invalid scheme/],
      ['mongodb://reader:p@s3cret@127.0.0.1:27017/', /^MONGODB_URI is malformed: /],
      ['mongodb://127.0.0.1:27017/?noSuchOption=1', /^MONGODB_URI is malformed: option nosuchoption is not supported/i],
      [
        'mongodb+srv://reader:s3cret@cluster0.example.net:27017/',
        /^MONGODB_URI is malformed: mongodb\+srv URI cannot have port number/,
      ],
    ];
    for (const [uri, message] of refusals) {
      const problems = problemsOf({ MONGODB_URI: uri });
      expect(problems, uri).toHaveLength(1);
      expect(problems[0], uri).toMatch(message);
      expect(problems[0], uri).not.toMatch(/s3cret/);
    }
  });
});
