-- Record one password check and decide what the caller may answer, atomically.
--
-- ARGV[1] mode:
--   'attempt'   KEYS[1] failures of this account from this client (hash: 'n' failures,
--               'u' end of the delay, ms), KEYS[2] the account's consecutive failures from
--               every client (hash: 'n'), KEYS[3] (optional, absent on Redis Cluster) the
--               client IP's limits hash (field 'f': failed passwords over a sliding hour)
--   'ip'        KEYS[1] the client IP's limits hash only (Redis Cluster, first call)
--   'ip_give_back'  KEYS[1] the client IP's limits hash: undo the count of an 'ip' call
--               whose attempt the account's delay refused (Redis Cluster)
-- ARGV[2] '1' the password was right, '0' it was wrong
-- ARGV[3] failures (account + client) before the delay starts, ARGV[4] first delay (ms),
-- ARGV[5] longest delay (ms), ARGV[6] how long (account + client) failures are kept (ms),
-- ARGV[7] account failures before a right password also needs an emailed code,
-- ARGV[8] how long account failures are kept (ms), ARGV[9] failed passwords per client IP
-- and sliding hour
--
-- Returns {verdict, ms, tripped}:
--   verdict 'ok'       right password (counts of this account + client and of the account
--                      reset), 'step_up' right password while the account's failures are at
--                      the ceiling (its count is kept until a second factor passes),
--                      'failed' wrong password (counted), 'delay' this account + client is
--                      inside its delay, 'ip_cap' the client IP failed too often (for both
--                      nothing is counted and the password's rightness is not used)
--   ms         for 'delay' and 'ip_cap' the wait (Retry-After); 0 otherwise
--   tripped    the limits this call made trip, space separated ('' for none): 'delay' (the
--              first delayed failure), 'step_up' (the account reached the ceiling),
--              'ip_cap' (the IP reached its cap)
-- Every refusal is decided before anything is written, so a refused attempt changes nothing.

--#include limits

local mode, right = ARGV[1], ARGV[2] == '1'
local ip_cap = tonumber(ARGV[9])

-- The IP part: refuse over the cap, else count a failure. Returns a refusal or nil, tripped.
local function ip_part(key)
  if issued(key, 'f') >= ip_cap then
    return {'ip_cap', wait_below(key, 'f', ip_cap), ''}, ''
  end
  if right then
    return nil, ''
  end
  charge(key, 'f', 1)
  return nil, (issued(key, 'f') == ip_cap) and 'ip_cap' or ''
end

if mode == 'ip' then
  local refusal, tripped = ip_part(KEYS[1])
  return refusal or {'ok', 0, tripped}
end
if mode == 'ip_give_back' then
  charge(KEYS[1], 'f', -1)
  return {'ok', 0, ''}
end

local delay_ends = tonumber(redis.call('HGET', KEYS[1], 'u') or '0')
if delay_ends > now then
  return {'delay', delay_ends - now, ''}
end
local tripped = ''
if KEYS[3] then
  local refusal
  refusal, tripped = ip_part(KEYS[3])
  if refusal then
    return refusal
  end
end

if right then
  redis.call('DEL', KEYS[1])
  if tonumber(redis.call('HGET', KEYS[2], 'n') or '0') >= tonumber(ARGV[7]) then
    return {'step_up', 0, tripped}
  end
  redis.call('DEL', KEYS[2])
  return {'ok', 0, tripped}
end

local failures = redis.call('HINCRBY', KEYS[1], 'n', 1)
local before = tonumber(ARGV[3])
local keep_ms = tonumber(ARGV[6])
if failures >= before then
  -- Doubling from the first delay on, capped: 2^k overflows nothing below 2^53.
  local exponent = math.min(failures - before, 40)
  local delay = math.min(tonumber(ARGV[4]) * 2 ^ exponent, tonumber(ARGV[5]))
  redis.call('HSET', KEYS[1], 'u', now + delay)
  keep_ms = math.max(keep_ms, delay)
  if failures == before then
    tripped = tripped .. ' delay'
  end
end
redis.call('PEXPIRE', KEYS[1], keep_ms)

local account = redis.call('HINCRBY', KEYS[2], 'n', 1)
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[8]))
if account == tonumber(ARGV[7]) then
  tripped = tripped .. ' step_up'
end
return {'failed', 0, tripped}
