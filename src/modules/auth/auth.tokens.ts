import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../../platform/clock/clock.ts';
import type { Role } from '../users/users.models.ts';

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
export const REFRESH_TOKEN_TTL_MS = 7 * 24 * 3600 * 1000;

const ALGORITHM = 'HS256';
const ISSUER = 'assay';
const AUDIENCE = 'assay-api';
const VERIFIED_CACHE_SIZE = 50_000;

/** `sessionId` is the refresh-token family the access token was issued with. */
export type AccessClaims = { userId: string; role: Role; tokenVersion: number; sessionId?: string };

/**
 * Access tokens: short-lived HS256 JWTs. The algorithm is pinned on verification, so `alg: none`
 * or a token signed some other way is refused, whatever its header says.
 */
export function createAccessTokens(options: { secret: string; clock: Clock }) {
  const key = new TextEncoder().encode(options.secret);
  const verified = new Map<string, { claims: AccessClaims; expiresAtMs: number }>();
  return {
    async sign(claims: AccessClaims): Promise<{ token: string; expiresIn: number }> {
      const now = Math.floor(options.clock.now().getTime() / 1000);
      const token = await new SignJWT({
        role: claims.role,
        ver: claims.tokenVersion,
        ...(claims.sessionId ? { sid: claims.sessionId } : {}),
      })
        .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
        .setSubject(claims.userId)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(now + ACCESS_TOKEN_TTL_SECONDS)
        .setJti(randomUUID())
        .sign(key);
      return { token, expiresIn: ACCESS_TOKEN_TTL_SECONDS };
    },

    /** The claims of a valid token, or undefined for anything else (expired, forged, malformed). */
    async verify(token: string): Promise<AccessClaims | undefined> {
      // A token verified once is the same token the next time: skip the HMAC (WebCrypto is a
      // large share of a request's CPU) until it expires. Revocation is the token version's job.
      const hit = verified.get(token);
      if (hit) {
        if (hit.expiresAtMs > options.clock.now().getTime()) return hit.claims;
        verified.delete(token);
      }
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: [ALGORITHM],
          issuer: ISSUER,
          audience: AUDIENCE,
          currentDate: options.clock.now(),
          requiredClaims: ['sub', 'exp', 'iat'],
        });
        if (
          typeof payload.sub !== 'string' ||
          typeof payload.ver !== 'number' ||
          typeof payload.role !== 'string'
        ) {
          return undefined;
        }
        const claims: AccessClaims = {
          userId: payload.sub,
          role: payload.role as Role,
          tokenVersion: payload.ver,
          ...(typeof payload.sid === 'string' ? { sessionId: payload.sid } : {}),
        };
        if (verified.size >= VERIFIED_CACHE_SIZE) verified.clear();
        verified.set(token, { claims, expiresAtMs: (payload.exp ?? 0) * 1000 });
        return claims;
      } catch (error) {
        if (error instanceof joseErrors.JOSEError || error instanceof TypeError) return undefined;
        throw error;
      }
    },
  };
}

export type AccessTokens = ReturnType<typeof createAccessTokens>;

/** 256 random bits, URL-safe: unguessable, so SHA-256 is a sufficient way to store it. */
export const newOpaqueToken = () => randomBytes(32).toString('base64url');

export const hashOpaqueToken = (token: string) => createHash('sha256').update(token).digest('hex');
