import { z } from 'zod';
import type { WebhookOutcome } from '../ledger/schema.ts';
import { parseJsonExact } from '../money/json.ts';
import type { WebhookFilter, WebhookRow } from './history.ts';
import type { ImportedNotification, ReplayFilter } from './replay.ts';

/**
 * The webhook history as its two edges speak it, the /v1 API and the CLI: one set of input schemas,
 * one reader of a vendor's export file and one JSON shape for a webhook, so an operator sees the same
 * thing from either.
 */

export const OUTCOMES = ['ok', 'duplicate', 'refused', 'rejected', 'fault', 'parked'] as const satisfies readonly WebhookOutcome[];

/** Why an operator's request about a webhook was not carried out. */
export type WebhookRefusal = 'not_found' | 'unknown_provider' | 'not_replayable';

/** A moment: an ISO 8601 date-time with a zone (`2026-11-20T10:00:00Z`) or a date (`2026-11-20`, midnight UTC). */
export const moment = z.union([z.iso.datetime({ offset: true }), z.iso.date()]).transform((text) => new Date(text));
const id = z.string().regex(/^\d{1,19}$/, 'a webhook id (digits)');
const text = z.string().trim().min(1).max(200);
const outcomeList = z
  .string()
  .transform((list) => list.split(',').map((o) => o.trim()).filter(Boolean))
  .pipe(z.array(z.enum(OUTCOMES)).min(1));

export const webhookId = id.transform(BigInt);

/** A window's check, for every filter with `since` and `until`: refine(ordered, unordered). */
export const ordered = (w: { since?: Date | undefined; until?: Date | undefined }) => w.since === undefined || w.until === undefined || w.since < w.until;
export const unordered = { message: 'since must be before until', path: ['until'] };

/** A search of the history: `failed` keeps the failures (fault, parked) no retry or replay has settled yet. */
export const searchRequest = z
  .object({
    provider: text.optional(),
    player: text.optional(),
    transactionId: text.optional(),
    outcome: outcomeList.optional(),
    failed: z.enum(['true', 'false']).optional(),
    since: moment.optional(),
    until: moment.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    before: id.optional(),
  })
  .refine(ordered, unordered)
  .transform(
    (q): WebhookFilter => ({
      limit: q.limit,
      ...(q.provider === undefined ? {} : { provider: q.provider }),
      ...(q.player === undefined ? {} : { player: q.player }),
      ...(q.transactionId === undefined ? {} : { transactionId: q.transactionId }),
      ...(q.outcome === undefined ? {} : { outcomes: q.outcome }),
      ...(q.failed === 'true' ? { unresolved: true } : {}),
      ...(q.since === undefined ? {} : { since: q.since }),
      ...(q.until === undefined ? {} : { until: q.until }),
      ...(q.before === undefined ? {} : { before: BigInt(q.before) }),
    }),
  );

/** A bulk replay: one provider, a closed time window, and the outcomes to replay (default: unsettled failures). */
export const replayRequest = z
  .object({
    provider: text,
    since: moment,
    until: moment,
    outcomes: z.array(z.enum(OUTCOMES)).min(1).optional(),
    /** Count what would be replayed, and replay nothing. */
    dryRun: z.boolean().default(false),
  })
  .refine(ordered, unordered)
  .transform((r): ReplayFilter & { dryRun: boolean } => ({ provider: r.provider, since: r.since, until: r.until, dryRun: r.dryRun, ...(r.outcomes ? { outcomes: r.outcomes } : {}) }));

/**
 * A dry run's answer. `since` and `until` are the window it counted in (`until` no later than when it
 * ran): send them back to replay what was counted, and no failure that arrived since.
 */
export function dryRunJson(dry: { filter: ReplayFilter; count: number; first: readonly WebhookRow[] }) {
  return { dryRun: true as const, count: dry.count, webhookIds: dry.first.map((w) => w.id.toString()), since: dry.filter.since.toISOString(), until: dry.filter.until.toISOString() };
}

/** Notifications in one import: more is a file to split. */
export const MAX_IMPORT = 10_000;

/** The endpoint a notification went to, for a dialect with one per call ("/transaction/win"). */
const path = z.string().regex(/^(\/[A-Za-z0-9_.-]+){1,4}$/, 'an endpoint path such as /transaction/win').optional();

const notification = z.union([
  z.strictObject({ body: z.string().min(1), path }),
  z.strictObject({ payload: z.custom<unknown>((v) => v !== undefined && v !== null, 'a decoded payload (a JSON object)'), path }),
]);

/**
 * A vendor's back-office export of failed notifications: a JSON array, or JSON lines (one entry per
 * line), of `{"body": "<the request body exactly as the vendor sent it>"}` or `{"payload": {...}}`
 * (the notification already decoded, e.g. decrypted). Numbers keep their source text, so an amount
 * reaches the adapter digit for digit.
 */
export function parseExport(content: string): { ok: true; value: ImportedNotification[] } | { ok: false; message: string } {
  const trimmed = content.trim();
  if (!trimmed) return { ok: false, message: 'the file holds no notification' };
  let entries: { where: string; value: unknown }[];
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = parseJsonExact(trimmed);
    } catch (error) {
      return { ok: false, message: `not a JSON array: ${(error as Error).message}` };
    }
    if (!Array.isArray(parsed)) return { ok: false, message: 'not a JSON array' };
    entries = parsed.map((value, i) => ({ where: `entry ${i}`, value }));
  } else {
    entries = [];
    const lines = trimmed.split(/\r?\n/);
    for (const [i, line] of lines.entries()) {
      if (!line.trim()) continue;
      try {
        entries.push({ where: `line ${i + 1}`, value: parseJsonExact(line) });
      } catch (error) {
        return { ok: false, message: `line ${i + 1}: not JSON: ${(error as Error).message}` };
      }
    }
  }
  if (!entries.length) return { ok: false, message: 'the file holds no notification' };
  if (entries.length > MAX_IMPORT) return { ok: false, message: `${entries.length} notifications: at most ${MAX_IMPORT} per import` };
  const out: ImportedNotification[] = [];
  for (const { where, value } of entries) {
    const entry = notification.safeParse(value);
    if (!entry.success) return { ok: false, message: `${where}: expected {"body": "..."} or {"payload": {...}}` };
    out.push(entry.data);
  }
  return { ok: true, value: out };
}

export const webhookRefusalJson = (reason: WebhookRefusal, message: string) => ({ error: { code: reason, message } });

/** The body as text when it is UTF-8 (JSON, ciphertext in base64), otherwise base64 of its bytes. */
function bodyJson(body: Buffer): { body: string; bodyEncoding: 'utf8' | 'base64' } {
  try {
    return { body: new TextDecoder('utf-8', { fatal: true }).decode(body), bodyEncoding: 'utf8' };
  } catch {
    return { body: body.toString('base64'), bodyEncoding: 'base64' };
  }
}

export function webhookJson(w: WebhookRow) {
  return {
    id: w.id.toString(),
    provider: w.provider_id,
    receivedAt: w.received_at.toISOString(),
    source: w.source,
    player: w.player_code,
    transactionId: w.transaction_id,
    operation: w.operation ?? null,
    outcome: w.outcome,
    detail: w.detail,
    answer: w.answer,
    durationMs: w.duration_ms,
    replayOf: w.replay_of?.toString() ?? null,
    resolvedAt: w.resolved_at?.toISOString() ?? null,
    resolvedBy: w.resolved_by?.toString() ?? null,
    headers: w.headers,
    ...bodyJson(w.body),
    /** Where under the provider's address it came ('' for a dialect with one address). */
    path: w.path,
    /** The body is the decoded payload (an import of a vendor's export), not the wire form. */
    plaintext: w.plaintext,
    payload: w.payload ?? null,
  };
}

export type WebhookJson = ReturnType<typeof webhookJson>;

/** One page of the history, newest first; `next` is the `before` of the following page, null on the last. */
export function webhookPageJson(rows: readonly WebhookRow[], limit: number) {
  const items = rows.map(webhookJson);
  return { items, next: items.length === limit ? (items.at(-1)?.id ?? null) : null };
}

/** One line per webhook, for the CLI's list. */
export function webhookLine(w: WebhookJson): string {
  const op = (w.operation as { op?: string } | null)?.op ?? '-';
  const settled = w.resolvedBy ? ` (settled by ${w.resolvedBy})` : '';
  const replay = w.replayOf ? ` replay of ${w.replayOf}` : '';
  return `${w.id}  ${w.receivedAt}  ${w.provider}  ${w.source}${replay}  ${op}  ${w.player ?? '-'}  ${w.transactionId ?? '-'}  ${w.outcome}${settled}`;
}
