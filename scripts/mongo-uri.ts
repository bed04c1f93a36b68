/**
 * MONGODB_URI as it may be printed (`npm start`, the tests' store check): everything up to the last "@" before
 * the host hidden (a password with an unescaped "@", a malformed URI, is hidden whole too, and so is one in a URI
 * that lacks its mongodb://, malformed and as secret), and the options that carry a secret (a key file's
 * password, an AWS session token).
 */
export function shownMongoUri(uri: string): string {
  return uri
    .replace(/^([^:/]*:\/\/)?.*@/, '$1***@')
    .replace(/([?&](?:tlsCertificateKeyFilePassword|authMechanismProperties)=)[^&#]*/gi, '$1***');
}
