import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../src/errors.ts';
import type { HttpConfig } from './config.ts';

/**
 * Bearer-token check. Tokens come from an environment variable (comma-separated) and/or a file
 * (one per line, e.g. a mounted Kubernetes Secret); several are allowed so that a token can be
 * rotated without downtime (add the new one, move the clients, remove the old one).
 *
 * The comparison is constant-time: both sides are hashed to 32 bytes (so lengths never differ)
 * and compared with timingSafeEqual, against every token without stopping at a match. Tokens are
 * never logged, nor put in errors.
 */
export class BearerAuth {
  private constructor(private readonly digests: readonly Buffer[]) {}

  /** Null when no token source is configured: requests need no token. */
  static fromConfig(auth: HttpConfig['auth'], env: NodeJS.ProcessEnv = process.env): BearerAuth | null {
    if (auth.tokensEnv === undefined && auth.tokensFile === undefined) return null;
    return new BearerAuth(readTokens(auth, env).map(digest));
  }

  /** The first configured token: what this instance's own publisher sends. */
  static firstToken(auth: HttpConfig['auth'], env: NodeJS.ProcessEnv = process.env): string | undefined {
    if (auth.tokensEnv === undefined && auth.tokensFile === undefined) return undefined;
    return readTokens(auth, env)[0];
  }

  get count(): number {
    return this.digests.length;
  }

  /** Whether an Authorization header carries one of the tokens. */
  allows(header: string | undefined): boolean {
    if (header === undefined) return false;
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (!match) return false;
    const offered = digest(match[1]!);
    let ok = false;
    for (const expected of this.digests) ok = timingSafeEqual(offered, expected) || ok;
    return ok;
  }
}

/** The tokens of the configured sources; a source that is missing or empty is a ConfigError. */
function readTokens(auth: HttpConfig['auth'], env: NodeJS.ProcessEnv): string[] {
  const tokens: string[] = [];
  if (auth.tokensEnv !== undefined) {
    const value = env[auth.tokensEnv];
    if (value === undefined || value.trim() === '') {
      throw new ConfigError('broker.http.auth.tokensEnv', `environment variable ${auth.tokensEnv} is not set or empty`);
    }
    tokens.push(...value.split(','));
  }
  if (auth.tokensFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(auth.tokensFile, 'utf8');
    } catch (error) {
      throw new ConfigError(
        'broker.http.auth.tokensFile',
        `cannot read ${auth.tokensFile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
    tokens.push(...text.split('\n'));
  }
  const kept = tokens.map((token) => token.trim()).filter((token) => token.length > 0);
  if (kept.length === 0) throw new ConfigError('broker.http.auth', 'the configured token sources hold no token');
  return kept;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
