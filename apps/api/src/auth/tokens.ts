import { LOCAL_ISSUER, type TokenIdentity } from '@threadstore/domain';
import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { ApiConfig } from '../env.ts';

export type TokenConfig = Pick<
  ApiConfig,
  | 'AUTH_JWT_SECRET'
  | 'AUTH_JWKS_URL'
  | 'AUTH_JWT_ISSUER'
  | 'AUTH_JWT_AUDIENCE'
  | 'AUTH_LOCAL_ACCOUNTS'
  | 'AUTH_LOCAL_TOKEN_TTL_SECONDS'
>;

export type TokenVerification = { identity: TokenIdentity; failure: null } | { identity: null; failure: string };

/** Checks a bearer token's signature and claims. Never throws: a refused token comes back with the reason. */
export interface TokenVerifier {
  verify(token: string): Promise<TokenVerification>;
}

// What OIDC providers sign with. Never `none`, and never HS*: an HMAC "signature" made with a
// provider's public key as the secret would otherwise pass (the classic algorithm confusion).
const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
];
// Servers' clocks drift; a token minted a moment "in the future" by its issuer is still fine.
const CLOCK_TOLERANCE_SECONDS = 30;
const JWKS_TIMEOUT_MS = 5_000;
const LOCAL_SUBJECT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function createTokenVerifier(config: TokenConfig): TokenVerifier {
  const secret = config.AUTH_JWT_SECRET === undefined ? null : new TextEncoder().encode(config.AUTH_JWT_SECRET);
  const jwks =
    config.AUTH_JWKS_URL === undefined
      ? null
      : createRemoteJWKSet(new URL(config.AUTH_JWKS_URL), { timeoutDuration: JWKS_TIMEOUT_MS });
  // The shared secret signs local accounts' tokens, and the configured issuer's when the secret is
  // that issuer's key. With a JWKS the configured issuer is an OIDC provider, whose tokens must
  // carry its own signature: a holder of our secret cannot speak for the provider's users.
  const secretIssuers = [
    ...(config.AUTH_LOCAL_ACCOUNTS ? [LOCAL_ISSUER] : []),
    ...(jwks === null && config.AUTH_JWT_ISSUER !== undefined ? [config.AUTH_JWT_ISSUER] : []),
  ];
  const claimChecks = {
    audience: config.AUTH_JWT_AUDIENCE,
    requiredClaims: ['exp', 'sub'],
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
  };

  return {
    async verify(token) {
      if (secret === null && jwks === null) {
        return refuse('bearer tokens are not accepted: this server has neither AUTH_JWT_SECRET nor AUTH_JWKS_URL');
      }
      let algorithm: string | undefined;
      try {
        algorithm = decodeProtectedHeader(token).alg;
      } catch {
        return refuse('malformed bearer token: not a JWT');
      }
      let payload: JWTPayload;
      try {
        if (algorithm === 'HS256' && secret !== null) {
          if (secretIssuers.length === 0) {
            return refuse('HS256 tokens are not accepted: this server has no AUTH_JWT_ISSUER to check them against');
          }
          ({ payload } = await jwtVerify(token, secret, {
            ...claimChecks,
            algorithms: ['HS256'],
            issuer: secretIssuers,
          }));
        } else if (jwks !== null && algorithm !== undefined && ASYMMETRIC_ALGORITHMS.includes(algorithm)) {
          ({ payload } = await jwtVerify(token, jwks, {
            ...claimChecks,
            algorithms: ASYMMETRIC_ALGORITHMS,
            issuer: config.AUTH_JWT_ISSUER,
          }));
        } else {
          return refuse(`bearer tokens signed with ${nameOf(algorithm)} are not accepted by this server`);
        }
      } catch (error) {
        return refuse(reasonOf(error));
      }
      return identityFrom(payload);
    },
  };
}

function identityFrom({ iss, sub, email, name }: JWTPayload): TokenVerification {
  // jwtVerify has checked both: iss is one we accept, sub is present.
  const issuer = iss!;
  const subject = sub!;
  if (!storable(subject, 512)) return refuse('bearer token subject is empty, too long or not text');
  if (issuer === LOCAL_ISSUER && !LOCAL_SUBJECT.test(subject))
    return refuse('bearer token subject is not an account id');
  // Profile claims are best effort: one a column cannot hold is ignored, not a reason to refuse.
  return {
    identity: {
      issuer,
      subject,
      email: storable(email, 320) && email.includes('@') ? email : null,
      displayName: storable(name, 256) ? name : null,
    },
    failure: null,
  };
}

/** A non-blank string PostgreSQL stores as given: no NUL, no lone surrogate, within the column's length. */
function storable(value: unknown, maxLength: number): value is string {
  return (
    typeof value === 'string' &&
    value.trim().length > 0 &&
    value.length <= maxLength &&
    !value.includes('\0') &&
    value.isWellFormed()
  );
}

function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'bearer token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return 'bearer token issuer is not accepted';
      case 'aud':
        return 'bearer token audience is not accepted';
      case 'nbf':
      case 'iat':
        return 'bearer token is not valid yet';
      default:
        return `bearer token claim "${error.claim}" is ${error.reason === 'missing' ? 'missing' : 'invalid'}`;
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bearer token signature is invalid';
  if (error instanceof errors.JWKSNoMatchingKey) return 'bearer token is signed with a key the issuer does not publish';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return 'malformed bearer token';
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return 'bearer token algorithm is not accepted';
  }
  // Left: the provider's key set could not be fetched or read (timeout, network, bad JSON).
  return "bearer token could not be checked: the identity provider's signing keys are unavailable";
}

/** The header's `alg` in a message, unless it is something an attacker made up to fill logs. */
function nameOf(algorithm: string | undefined): string {
  if (algorithm === undefined) return 'no algorithm';
  return /^[A-Za-z0-9]{1,16}$/.test(algorithm) ? algorithm : 'an unknown algorithm';
}

function refuse(failure: string): TokenVerification {
  return { identity: null, failure };
}

/** Local accounts' token signing; null on a server where local accounts are off. */
export interface LocalAccounts {
  issueToken(userId: string): Promise<{ token: string; expiresAt: Date }>;
}

export function createLocalAccounts(config: TokenConfig): LocalAccounts | null {
  if (!config.AUTH_LOCAL_ACCOUNTS || config.AUTH_JWT_SECRET === undefined) return null;
  const secret = new TextEncoder().encode(config.AUTH_JWT_SECRET);
  const { AUTH_JWT_AUDIENCE: audience, AUTH_LOCAL_TOKEN_TTL_SECONDS: ttlSeconds } = config;
  return {
    async issueToken(userId) {
      const issuedAt = Math.floor(Date.now() / 1000);
      const expiresAt = issuedAt + ttlSeconds;
      const jwt = new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer(LOCAL_ISSUER)
        .setSubject(userId)
        .setIssuedAt(issuedAt)
        .setExpirationTime(expiresAt);
      if (audience !== undefined) jwt.setAudience(audience);
      return { token: await jwt.sign(secret), expiresAt: new Date(expiresAt * 1000) };
    },
  };
}
