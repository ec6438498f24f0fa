-- Issue a one-time code: limits, replacement and expiry in one atomic step.
-- KEYS[1] code hash (email + purpose), KEYS[2] resend cooldown (email + purpose),
-- KEYS[3] hourly counter of the email, KEYS[4] (optional) hourly counter of the client IP
-- ARGV[1] HMAC digest of the new code, or '' for a dry run (limits only, no code stored)
-- ARGV[2] created-at (ms), ARGV[3] code lifetime (ms), ARGV[4] resend cooldown (ms)
-- ARGV[5] hourly cap per email, ARGV[6] ms until the email counter's hour window ends
-- ARGV[7] hourly cap per IP,    ARGV[8] ms until the IP counter's hour window ends
--
-- Returns {'ok', 0} or {'cooldown' | 'email_cap' | 'ip_cap', ms until a retry can succeed}.
-- Every limit is checked before anything is written, so a refused request changes nothing.
-- On Redis Cluster the IP counter lives in another slot: the caller then omits KEYS[4] and
-- runs cap_counter.lua for it first.

local function wait_ms(key)
  local ttl = redis.call('PTTL', key)
  if ttl < 1 then
    return 1000
  end
  return ttl
end

local function over_cap(key, cap)
  local n = tonumber(redis.call('GET', key) or '0')
  return n >= cap
end

local function count(key, window_ms)
  redis.call('INCR', key)
  -- Set the expiry only if the counter has none (created just now), so the fixed hour
  -- window is not stretched; a counter can never outlive its window.
  if redis.call('PTTL', key) < 0 then
    redis.call('PEXPIRE', key, window_ms)
  end
end

if redis.call('EXISTS', KEYS[2]) == 1 then
  return {'cooldown', wait_ms(KEYS[2])}
end
if over_cap(KEYS[3], tonumber(ARGV[5])) then
  return {'email_cap', wait_ms(KEYS[3])}
end
if KEYS[4] and over_cap(KEYS[4], tonumber(ARGV[7])) then
  return {'ip_cap', wait_ms(KEYS[4])}
end

count(KEYS[3], tonumber(ARGV[6]))
if KEYS[4] then
  count(KEYS[4], tonumber(ARGV[8]))
end
local cooldown = tonumber(ARGV[4])
if cooldown > 0 then
  redis.call('SET', KEYS[2], '1', 'PX', cooldown)
end
if ARGV[1] ~= '' then
  -- Replace, never merge: the previous code (and its attempt count) is gone.
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'digest', ARGV[1], 'attempts', 0, 'created', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
end
return {'ok', 0}
