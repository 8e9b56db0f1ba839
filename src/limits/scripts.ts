/**
 * The Lua scripts of the gate, kept as named constants (as upstash/ratelimit-js does).
 * Each runs atomically in Redis, so concurrent admissions can never both take the last unit.
 * Numbers that Redis stores go out through ARGV strings or `%d`: Lua 5.1 prints large doubles
 * in exponent form, which INCRBY refuses.
 */

/**
 * Reads revocation and breaker state, checks concurrency, token rates and budgets, and, only if
 * every check passes, reserves them all and records the reservation.
 *
 * KEYS: 1 revocation marker, 2 reservation record, 3 in-flight ZSET, then per token scope its
 * current and previous window counters, then one counter per budget, then the breaker keys,
 * then the tenant's state hash and its prepaid balance (micro-dollars available).
 * ARGV: 1 now (ms), 2 reservation id, 3 lease (ms), 4 concurrency limit (0 = none),
 * 5 tokens to reserve, 6 token window (ms), 7 micro-dollars to reserve, 8 record TTL (ms),
 * 9 token scope count, 10 budget count, 11 breaker count,
 * then per token scope its limit, then per budget its limit and expire-at (ms), and last the
 * micro-dollars to take from a prepaid balance (the worst case at the billed price).
 *
 * A tenant whose state hash says `suspended` is refused like a revoked key; one that says
 * `prepaid` must hold the billed worst case in its balance, which is taken from it with the rest
 * (the record keeps it as `billed`).
 *
 * Returns {status, inflight, tokenUsed[], tokenOk[], budgetSpent[], budgetOk[], breakers[],
 * balance, balanceOk} where status is 0 reserved, 1 revoked, 2 refused (nothing reserved),
 * 3 tenant suspended, and balanceOk is 1 or 0 for a prepaid tenant, -1 for one that is not.
 */
export const ADMIT_SCRIPT = `
local now = tonumber(ARGV[1])
local lease = tonumber(ARGV[3])
local concurrency = tonumber(ARGV[4])
local tokens = tonumber(ARGV[5])
local window = tonumber(ARGV[6])
local micros = tonumber(ARGV[7])
local billed = tonumber(ARGV[#ARGV])
local nTok = tonumber(ARGV[9])
local nBud = tonumber(ARGV[10])
local nBrk = tonumber(ARGV[11])
local budgetBase = 3 + 2 * nTok

local breakers = {}
if nBrk > 0 then
  breakers = redis.call("MGET", unpack(KEYS, budgetBase + nBud + 1, budgetBase + nBud + nBrk))
end

local revokedFrom = redis.call("GET", KEYS[1])
if revokedFrom and (tonumber(revokedFrom) or 0) <= now then
  return {1, 0, {}, {}, {}, {}, breakers, 0, -1}
end
local balanceKey = KEYS[#KEYS]
local tenantState = redis.call("HMGET", KEYS[#KEYS - 1], "suspended", "prepaid")
if tenantState[1] == "1" then
  return {3, 0, {}, {}, {}, {}, breakers, 0, -1}
end

local status = 0
local inflight = 0
if concurrency > 0 then
  -- Leases that ran out belong to requests that crashed or never settled: their slots are free.
  redis.call("ZREMRANGEBYSCORE", KEYS[3], "-inf", now)
  inflight = redis.call("ZCARD", KEYS[3])
  if inflight >= concurrency then status = 2 end
end

-- Sliding window as in @upstash/ratelimit: the previous window counts by the share still inside.
local weight = (window - (now % window)) / window
local tokenUsed, tokenOk = {}, {}
for i = 1, nTok do
  local cur = tonumber(redis.call("GET", KEYS[2 + 2 * i]) or "0")
  local prev = tonumber(redis.call("GET", KEYS[3 + 2 * i]) or "0")
  local used = cur + math.floor(prev * weight)
  tokenUsed[i] = used
  tokenOk[i] = 1
  if used + tokens > tonumber(ARGV[11 + i]) then
    tokenOk[i] = 0
    status = 2
  end
end

local budgetSpent, budgetOk = {}, {}
for j = 1, nBud do
  local spent = tonumber(redis.call("GET", KEYS[budgetBase + j]) or "0")
  local limit = tonumber(ARGV[10 + nTok + 2 * j])
  budgetSpent[j] = spent
  budgetOk[j] = 1
  if spent >= limit or spent + micros > limit then
    budgetOk[j] = 0
    status = 2
  end
end

-- Prepaid: the worst case must fit in what is left; an empty balance refuses even unpriced work.
local prepaid = tenantState[2] == "1"
local balance, balanceOk = 0, -1
if prepaid then
  balanceOk = 1
  balance = tonumber(redis.call("GET", balanceKey) or "0")
  if balance <= 0 or balance < billed then
    balanceOk = 0
    status = 2
  end
end

if status == 0 then
  if prepaid then
    redis.call("DECRBY", balanceKey, ARGV[#ARGV])
    redis.call("HSET", KEYS[2], "balance", "1", "billed", ARGV[#ARGV])
  end
  if concurrency > 0 then
    redis.call("ZADD", KEYS[3], string.format("%d", now + lease), ARGV[2])
    redis.call("PEXPIRE", KEYS[3], lease)
  end
  for i = 1, nTok do
    redis.call("INCRBY", KEYS[2 + 2 * i], ARGV[5])
    redis.call("PEXPIRE", KEYS[2 + 2 * i], window * 2 + 1000)
  end
  for j = 1, nBud do
    redis.call("INCRBY", KEYS[budgetBase + j], ARGV[7])
    redis.call("PEXPIREAT", KEYS[budgetBase + j], ARGV[11 + nTok + 2 * j])
  end
  redis.call("HSET", KEYS[2], "tokens", ARGV[5], "micros", ARGV[7])
  redis.call("PEXPIRE", KEYS[2], ARGV[8])
end

return {status, inflight, tokenUsed, tokenOk, budgetSpent, budgetOk, breakers, balance, balanceOk}
`;

/**
 * Settles one reservation to the real use, at most once: gives back what was reserved but not
 * used (or adds what was used beyond it), frees the concurrency slot and deletes the record.
 * Without a record it does nothing, unless ARGV[5] is 1 (the admission fell open while Redis was
 * unreachable and reserved nothing): then it records the real use.
 * With budget alerts (ARGV[6] > 0), a budget counter at or past a threshold share of its limit
 * queues one alert per threshold and period: the marker hash's HSETNX makes it exactly once,
 * however many requests and isolates settle at the same time.
 *
 * A reservation taken from a prepaid balance gives back (or takes) the difference between the
 * billed price reserved and the real one there too (a record without `billed` reserved its cost);
 * an admission that fell open takes the real billed price from a balance that exists.
 *
 * KEYS: 1 reservation record, 2 in-flight ZSET, then the counters to adjust (token counters
 * first, budget counters last), then with alerts one marker hash per budget counter and the alert
 * queue, and last the tenant's prepaid balance.
 * ARGV: 1 reservation id, 2 real tokens, 3 real micro-dollars, 4 token counter count,
 * 5 record-without-reservation flag, 6 alerting budget count (0 or the budget counter count),
 * then per counter its expire-at (ms), used when creating it; with alerts then: now (ms),
 * threshold count, the thresholds (percent), then per budget its limit (micro-dollars) and the
 * alert's JSON text up to its closing brace (the script appends threshold, spent and time);
 * and last the real billed micro-dollars.
 *
 * Returns 1 when it adjusted the counters (plus the number of alerts queued), 0 when there was
 * nothing to settle.
 */
export const SETTLE_SCRIPT = `
local nKeys = #KEYS - 1
local balanceKey = KEYS[#KEYS]
local reserved = redis.call("HMGET", KEYS[1], "tokens", "micros", "balance", "billed")
local reservedTokens, reservedMicros = 0, 0
if reserved[1] then
  reservedTokens = tonumber(reserved[1])
  reservedMicros = tonumber(reserved[2])
  redis.call("DEL", KEYS[1])
  redis.call("ZREM", KEYS[2], ARGV[1])
elseif ARGV[5] ~= "1" then
  return 0
end

local deltaTokens = tonumber(ARGV[2]) - reservedTokens
local deltaMicros = tonumber(ARGV[3]) - reservedMicros
local deltaBilled = tonumber(ARGV[#ARGV]) - (tonumber(reserved[4]) or reservedMicros)
if deltaBilled ~= 0 and (reserved[3] == "1" or (not reserved[1] and redis.call("EXISTS", balanceKey) == 1)) then
  redis.call("DECRBY", balanceKey, string.format("%d", deltaBilled))
end
local nTok = tonumber(ARGV[4])
local nAlert = tonumber(ARGV[6])
local lastCounter = nKeys
if nAlert > 0 then lastCounter = nKeys - nAlert - 1 end
for i = 3, lastCounter do
  local delta = deltaMicros
  if i < 3 + nTok then delta = deltaTokens end
  if delta ~= 0 then
    if redis.call("EXISTS", KEYS[i]) == 1 then
      redis.call("INCRBY", KEYS[i], string.format("%d", delta))
    elseif delta > 0 and not reserved[1] then
      -- A counter that expired since the reservation belongs to a past period: leave it be.
      redis.call("INCRBY", KEYS[i], string.format("%d", delta))
      redis.call("PEXPIREAT", KEYS[i], ARGV[4 + i])
    end
  end
end
if nAlert == 0 then return 1 end

local queued = 0
local base = 5 + lastCounter
local now = tonumber(ARGV[base])
local nThresholds = tonumber(ARGV[base + 1])
for j = 1, nAlert do
  local counter = lastCounter - nAlert + j
  local marker = KEYS[lastCounter + j]
  local spent = tonumber(redis.call("GET", KEYS[counter]) or "0")
  local limit = tonumber(ARGV[base + nThresholds + 2 * j])
  local alert = ARGV[base + nThresholds + 2 * j + 1]
  for t = 1, nThresholds do
    local percent = tonumber(ARGV[base + 1 + t])
    if limit > 0 and spent * 100 >= percent * limit and redis.call("HSETNX", marker, percent, now) == 1 then
      redis.call("PEXPIREAT", marker, ARGV[4 + counter])
      redis.call("RPUSH", KEYS[nKeys], alert .. string.format(',"threshold":%d,"spent_micros":%d,"at":%d}', percent, spent, now))
      queued = queued + 1
    end
  end
end
if queued > 0 then redis.call("LTRIM", KEYS[nKeys], -10000, -1) end
return 1 + queued
`;

/**
 * Marks a key revoked from ARGV[1] (ms), keeping an earlier time already set, so a later
 * rotation can never lift an immediate revocation. ARGV[2] is the marker's expire-at (ms), or
 * "0" for a key that never expires.
 */
export const REVOKE_SCRIPT = `
local current = tonumber(redis.call("GET", KEYS[1]) or "")
local from = tonumber(ARGV[1])
if current and current < from then from = current end
redis.call("SET", KEYS[1], string.format("%d", from))
if ARGV[2] ~= "0" then redis.call("PEXPIREAT", KEYS[1], ARGV[2]) end
return from
`;
