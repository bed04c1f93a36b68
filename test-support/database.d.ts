/** The test server's URI with a database name of its own, so test files can run in parallel. */
export declare function testDatabaseUri(label: string): string;
export declare function testDatabaseName(label: string): string;
