import { z } from 'zod';

/** `broker.http`: Sluice as an HTTP server that services POST events to (no broker protocol). */
export const httpConfigSchema = z
  .object({
    host: z.string().min(1).default('0.0.0.0').describe('Address the events server listens on.'),
    port: z
      .number()
      .int()
      .min(0)
      .max(65_535)
      .default(8080)
      .describe('Port of POST /v1/events; its own port, not the metrics one (0: any free port).'),
    source: z.string().min(1).default('http').describe('The source name events carry (dead letters go to `<source>.dlq`).'),
    ack: z
      .enum(['processed', 'accepted'])
      .default('processed')
      .describe(
        'processed: the response comes once every event of the request was processed or dead-lettered (200), or 503 if any was not; accepted: 202 once queued (at-most-once on a crash).',
      ),
    maxWaitMs: z
      .number()
      .int()
      .min(0)
      .default(2_000)
      .describe('How long a request waits for room in the queue before it gets 429 with Retry-After (none of its events taken).'),
    retryAfterSeconds: z.number().int().min(1).default(1).describe('Retry-After of a 429 or 503 response.'),
    maxBodyBytes: z
      .number()
      .int()
      .min(1)
      .default(4 * 1024 * 1024)
      .describe('Largest request body; a larger one gets 413.'),
    maxEventsPerRequest: z
      .number()
      .int()
      .min(1)
      .default(10_000)
      .describe(
        'Most events in one request; more gets 413. Best at most queue.maxEvents (a batch larger than the queue waits for it to empty).',
      ),
    maxConcurrentRequests: z
      .number()
      .int()
      .min(1)
      .default(256)
      .describe(
        'Requests handled at once (reading, waiting for room, waiting for processing); more get 503. Bounds memory: this × maxBodyBytes.',
      ),
    maxConnections: z
      .number()
      .int()
      .min(1)
      .default(1_024)
      .describe(
        'Open connections at once, idle keep-alive ones included; a connection over it is closed as soon as it is accepted, without a response (counted in sluice_http_connections_refused_total). Bounds sockets and file descriptors a client can hold.',
      ),
    bodyTimeoutMs: z
      .number()
      .int()
      .min(1)
      .default(10_000)
      .describe('A request body must arrive whole within this from its headers; a slower client gets 408.'),
    headersTimeoutMs: z
      .number()
      .int()
      .min(1)
      .default(10_000)
      .describe("A request's headers must arrive within this (the connection is closed otherwise)."),
    keepAliveTimeoutMs: z.number().int().min(0).default(5_000).describe('An idle keep-alive connection is closed after this.'),
    maxRequestsPerSocket: z.number().int().min(0).default(0).describe('Requests on one connection before it is closed (0: no limit).'),
    auth: z
      .object({
        tokensEnv: z
          .string()
          .min(1)
          .optional()
          .describe('Environment variable holding the accepted bearer tokens, comma-separated (several for rotation).'),
        tokensFile: z
          .string()
          .min(1)
          .optional()
          .describe('File holding accepted bearer tokens, one per line (a mounted Secret); read at start.'),
      })
      .strict()
      .prefault({})
      .describe('Bearer tokens (Authorization: Bearer …); with neither set, requests need no token.'),
    tls: z
      .object({
        certFile: z.string().min(1).optional().describe('PEM server certificate (chain); with keyFile, the server speaks HTTPS.'),
        keyFile: z.string().min(1).optional().describe('PEM private key of certFile.'),
        clientCaFile: z.string().min(1).optional().describe('PEM CA(s) that client certificates must chain to (mTLS).'),
        requireClientCert: z
          .boolean()
          .default(false)
          .describe('Refuse clients without a certificate signed by clientCaFile (mTLS); needs clientCaFile.'),
      })
      .strict()
      .prefault({})
      .describe('TLS server settings; off unless certFile and keyFile are set.'),
    publishUrl: z
      .string()
      .url()
      .optional()
      .describe('Where the publisher (dead letters, benchmarks) POSTs events; default: this server, http(s)://127.0.0.1:<port>/v1/events.'),
  })
  .strict()
  .describe('HTTP ingest (broker.type http): POST /v1/events with a JSON event, a JSON array or NDJSON; see adapters/http/README.md.');

export type HttpConfig = z.infer<typeof httpConfigSchema>;
