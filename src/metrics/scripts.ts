/**
 * The metrics' Lua scripts, kept as named constants like the gate's (src/limits/scripts.ts).
 * Amounts go out as ARGV strings: Lua 5.1 prints large doubles in exponent form.
 */

/**
 * Adds one batch of increments (the requests an isolate settled within a few ms) to the series
 * hash and to one live bucket. A series the hash does not hold yet is dropped once it holds
 * `max series` (and counted in `sluice_metrics_dropped_series_total`), so caller-influenced label
 * values cannot grow Redis without bound. A count that would overflow 64 bits starts again from
 * the increment (Prometheus reads that as a counter reset).
 *
 * KEYS: 1 series hash, 2 live bucket hash.
 * ARGV: 1 max series, 2 series TTL (ms), 3 live TTL (ms), 4 series pair count, then field/amount
 * pairs for the series hash, then field/amount pairs for the live bucket.
 * Returns the number of dropped series.
 */
export const METRICS_SCRIPT = `
local maxSeries = tonumber(ARGV[1])
local nSeries = tonumber(ARGV[4])
local size = redis.call("HLEN", KEYS[1])
local dropped = 0
local function add(key, field, amount)
  local ok = redis.pcall("HINCRBY", key, field, amount)
  if type(ok) == "table" and ok.err then redis.call("HSET", key, field, amount) end
end
for i = 0, nSeries - 1 do
  local field = ARGV[5 + 2 * i]
  if redis.call("HEXISTS", KEYS[1], field) == 1 then
    add(KEYS[1], field, ARGV[6 + 2 * i])
  elseif size < maxSeries then
    size = size + 1
    add(KEYS[1], field, ARGV[6 + 2 * i])
  else
    dropped = dropped + 1
  end
end
if dropped > 0 then
  redis.call("HINCRBY", KEYS[1], "c|sluice_metrics_dropped_series_total|", dropped)
end
if nSeries > 0 then redis.call("PEXPIRE", KEYS[1], ARGV[2]) end
local liveBase = 5 + 2 * nSeries
if #ARGV >= liveBase then
  for i = liveBase, #ARGV - 1, 2 do add(KEYS[2], ARGV[i], ARGV[i + 1]) end
  redis.call("PEXPIRE", KEYS[2], ARGV[3])
end
return dropped
`;
