import type { ChainableCommander, Redis } from 'ioredis';
import { type BoardEntry, type EntryDetails, pageRanks } from './leaderboards.models.ts';
import type { BoardStore } from './leaderboards.store.ts';

/**
 * Boards as Redis sorted sets. Per board three keys, in one hash slot (the `{board}` tag) so a
 * script may touch them all, also on Redis Cluster:
 *   <prefix>:lb:{<board>}:rank    sorted set: member = user id, score = the entry's sort key
 *   <prefix>:lb:{<board>}:entry   hash: user id → JSON { name, score, details }
 *   <prefix>:lb:{<board>}:top     hash: first pages as read, until a write could change them
 * The sort key packs every ordering key of the board into one exact integer (see
 * leaderboards.models.ts), so ZREVRANGE is board order (equal keys by member, descending) and
 * a competition rank is 1 + ZCOUNT of the keys strictly above: O(log n) either way.
 */

// Entries in, entries out, in one round trip and atomically per board. A write drops the cached
// first pages (KEYS[3], see PAGE) when it could change them: a new or removed member changes the
// total; an entry at or above the pages' lowest key, before or after, changes their rows.
const WRITE = `
local puts = tonumber(ARGV[1])
local cut = redis.call('HGET', KEYS[3], 'cut')
local stale = cut == 'all'
local i = 2
for _ = 1, puts do
  if cut and not stale then
    local old = redis.call('ZSCORE', KEYS[1], ARGV[i])
    stale = not old or tonumber(old) >= tonumber(cut) or tonumber(ARGV[i + 1]) >= tonumber(cut)
  end
  redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i])
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2])
  i = i + 3
end
if i <= #ARGV then stale = true end
for j = i, #ARGV do
  redis.call('ZREM', KEYS[1], ARGV[j])
  redis.call('HDEL', KEYS[2], ARGV[j])
end
if stale then redis.call('DEL', KEYS[3]) end
return redis.call('ZCARD', KEYS[1])`;

const RANK = `
local key = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not key then return false end
local above = redis.call('ZCOUNT', KEYS[1], '(' .. key, '+inf')
return { key, above, redis.call('HGET', KEYS[2], ARGV[1]) }`;

// The page comes back as one JSON text, built here from the stored JSON entries: one string to
// parse in the process instead of nested replies and a parse per entry (measured: the process,
// not Redis, is what limits a busy board's reads).
// First pages (offset 0), the ones everyone reads, are kept in KEYS[3] (a hash: p<stop> → the
// page's JSON, cut → the lowest key any kept page shows, or 'all' when one holds the whole board)
// until a write could change them, so a busy board's top 10 is built once per change, not per read.
const PAGE = `
local first = tonumber(ARGV[1]) == 0
if first then
  local kept = redis.call('HGET', KEYS[3], 'p' .. ARGV[2])
  if kept then return kept end
end
local rows = redis.call('ZREVRANGE', KEYS[1], ARGV[1], ARGV[2], 'WITHSCORES')
local total = redis.call('ZCARD', KEYS[1])
local above = 0
if #rows > 0 and tonumber(ARGV[1]) > 0 then
  above = redis.call('ZCOUNT', KEYS[1], '(' .. rows[2], '+inf')
end
local members = {}
for i = 1, #rows, 2 do members[#members + 1] = rows[i] end
local entries = {}
if #members > 0 then entries = redis.call('HMGET', KEYS[2], unpack(members)) end
local out = {}
for i = 1, #members do
  out[i] = '[' .. cjson.encode(members[i]) .. ',' .. rows[2 * i] .. ',' .. (entries[i] or 'null') .. ']'
end
local page = '[' .. total .. ',' .. above .. ',[' .. table.concat(out, ',') .. ']]'
if first then
  local cut = redis.call('HGET', KEYS[3], 'cut')
  if #members < tonumber(ARGV[2]) + 1 then
    cut = 'all'
  elseif cut ~= 'all' and (not cut or tonumber(rows[#rows]) < tonumber(cut)) then
    cut = rows[#rows]
  end
  redis.call('HSET', KEYS[3], 'p' .. ARGV[2], page, 'cut', cut)
  redis.call('EXPIRE', KEYS[3], 300)
end
return page`;

type Stored = { n: string; s: number; d: EntryDetails };

/** Rebuilds write big boards in pieces, each one script call. */
const CHUNK = 1_000;

/** The scripts, once `defineCommand` has added them (ioredis types cannot know). */
type Scripts = {
  lbRank(zset: string, hash: string, userId: string): Promise<[string, number, string] | null>;
  lbPage(zset: string, hash: string, top: string, start: string, stop: string): Promise<string>;
  lbWrite(zset: string, hash: string, top: string, ...args: string[]): Promise<number>;
};
/** A page as PAGE returns it: total, entries above the page, then [user id, key, entry]. */
type PageReply = [number, number, Array<[string, number, Stored | null]>];
type PipelineScripts = {
  lbWrite(zset: string, hash: string, top: string, ...args: string[]): unknown;
};

export function createRedisBoardStore(options: { redis: Redis; prefix: string }): BoardStore {
  const { redis } = options;
  const scripts = redis as unknown as Scripts;
  redis.defineCommand('lbWrite', { numberOfKeys: 3, lua: WRITE });
  redis.defineCommand('lbRank', { numberOfKeys: 2, lua: RANK });
  redis.defineCommand('lbPage', { numberOfKeys: 3, lua: PAGE });
  const base = `${options.prefix}:lb:`;
  const rankKey = (board: string) => `${base}{${board}}:rank`;
  const entryKey = (board: string) => `${base}{${board}}:entry`;
  const topKey = (board: string) => `${base}{${board}}:top`;
  const encode = (entry: BoardEntry) =>
    JSON.stringify({ n: entry.name, s: entry.score, d: entry.details } satisfies Stored);
  // A member without its hash field can only come from a write cut in half by a wipe.
  const entryOf = (userId: string, key: number, stored: Stored | null): BoardEntry =>
    stored
      ? { userId, key, name: stored.n, score: stored.s, details: stored.d }
      : { userId, key, name: '', score: 0, details: {} };
  const decode = (userId: string, key: number, json: string | null): BoardEntry =>
    entryOf(userId, key, json ? (JSON.parse(json) as Stored) : null);

  // A kept page comes back as the same text until a write drops it: parsed once, and the parse
  // (frozen: every caller shares it) reused while the text is unchanged.
  const parsed = new Map<string, { text: string; reply: PageReply }>();
  const parsedPage = (slot: string, text: string): PageReply => {
    const last = parsed.get(slot);
    if (last?.text === text) return last.reply;
    const reply = JSON.parse(text) as PageReply;
    for (const row of reply[2]) {
      if (row[2]) Object.freeze(Object.freeze(row[2]).d);
      Object.freeze(row);
    }
    if (parsed.size >= 1_000) parsed.clear();
    parsed.set(slot, { text, reply });
    return reply;
  };

  return {
    kind: 'redis',

    async write(changes) {
      const calls: Array<[string, string[]]> = [];
      for (const change of changes) {
        const puts = change.put ?? [];
        const removes = change.remove ?? [];
        for (let start = 0; start < Math.max(puts.length, removes.length); start += CHUNK) {
          const chunk = puts.slice(start, start + CHUNK);
          const args = [String(chunk.length)];
          for (const entry of chunk) args.push(entry.userId, String(entry.key), encode(entry));
          args.push(...removes.slice(start, start + CHUNK));
          calls.push([change.board, args]);
        }
      }
      // One entry (a result landing) is one script call; a pipeline costs more in the process.
      if (calls.length <= 1) {
        const [call] = calls;
        if (call)
          await scripts.lbWrite(rankKey(call[0]), entryKey(call[0]), topKey(call[0]), ...call[1]);
        return;
      }
      const pipeline = redis.pipeline() as ChainableCommander & PipelineScripts;
      for (const [board, args] of calls)
        pipeline.lbWrite(rankKey(board), entryKey(board), topKey(board), ...args);
      const results = await pipeline.exec();
      for (const [error] of results ?? []) if (error) throw error;
    },

    async page(board, range) {
      if (range.limit <= 0) return { items: [], total: await redis.zcard(rankKey(board)) };
      const text = await scripts.lbPage(
        rankKey(board),
        entryKey(board),
        topKey(board),
        String(range.offset),
        String(range.offset + range.limit - 1),
      );
      const [total, above, rows] = parsedPage(`${board}\u0000${range.offset}:${range.limit}`, text);
      const ranks = pageRanks(
        rows.map((row) => row[1]),
        range.offset,
        above,
      );
      const items = rows.map(([userId, key, stored], index) => {
        const rank = ranks[index] as number;
        return stored
          ? { userId, key, name: stored.n, score: stored.s, details: stored.d, rank }
          : { ...entryOf(userId, key, null), rank };
      });
      return { items, total };
    },

    async rankOf(board, userId) {
      const found = await scripts.lbRank(rankKey(board), entryKey(board), userId);
      if (!found) return undefined;
      const [key, above, json] = found;
      return { ...decode(userId, Number(key), json), rank: Number(above) + 1 };
    },

    async entriesOf(userId, boards) {
      if (boards.length === 0) return new Map();
      const pipeline = redis.pipeline();
      for (const board of boards) {
        pipeline.zscore(rankKey(board), userId);
        pipeline.hget(entryKey(board), userId);
      }
      const results = (await pipeline.exec()) ?? [];
      const found = new Map<string, BoardEntry>();
      boards.forEach((board, index) => {
        const [keyError, key] = results[index * 2] ?? [];
        const [jsonError, json] = results[index * 2 + 1] ?? [];
        if (keyError) throw keyError;
        if (jsonError) throw jsonError;
        if (typeof key === 'string')
          found.set(board, decode(userId, Number(key), (json as string | null) ?? null));
      });
      return found;
    },

    async all(board) {
      const [rows, entries] = await Promise.all([
        redis.zrange(rankKey(board), 0, -1, 'WITHSCORES'),
        redis.hgetall(entryKey(board)),
      ]);
      const found: BoardEntry[] = [];
      for (let index = 0; index < rows.length; index += 2) {
        const userId = rows[index]!;
        found.push(decode(userId, Number(rows[index + 1]), entries[userId] ?? null));
      }
      return found;
    },

    async boards() {
      // Rare (rebuilds): a scan beats keeping a registry that a wipe could leave half-right.
      const found = new Set<string>();
      const pattern = `${base}{*}:rank`;
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
        cursor = next;
        for (const key of keys) found.add(key.slice(base.length + 1, -'}:rank'.length));
      } while (cursor !== '0');
      return [...found];
    },

    async close() {
      redis.disconnect();
    },
  };
}
