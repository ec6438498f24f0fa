-- Issue a one-time code: limits, replacement and expiry in one atomic step.
-- KEYS[1] code hash (email + purpose), KEYS[2] the email's limits hash,
-- KEYS[3] (optional) the client IP's limits hash
-- ARGV[1] HMAC digest of the new code, or '' for a dry run (limits only, no code stored)
-- ARGV[2] code lifetime (ms), ARGV[3] resend cooldown (ms),
-- ARGV[4] hourly cap per email and budget, ARGV[5] hourly cap per IP (both over a sliding
-- hour, see limits.lib.lua),
-- ARGV[6] purpose tag (its cooldown), ARGV[7] budget tag (its hourly count)
--
-- Returns {'ok', 0} or {'cooldown' | 'email_cap' | 'ip_cap', ms until a retry can succeed}.
-- Every limit is checked before anything is written, so a refused request changes nothing.
-- On Redis Cluster the IP's hash lives in another slot: the caller then omits KEYS[3] and
-- runs cap_counter.lua for it first.

--#include limits

local cooldown = tonumber(ARGV[3])
local cooldown_field, count_field = 'c' .. ARGV[6], 'n' .. ARGV[7]

local cooldown_ends = tonumber(redis.call('HGET', KEYS[2], cooldown_field) or '0')
if cooldown_ends > now then
  return {'cooldown', cooldown_ends - now}
end
if issued(KEYS[2], count_field) >= tonumber(ARGV[4]) then
  return {'email_cap', wait_below(KEYS[2], count_field, tonumber(ARGV[4]))}
end
if KEYS[3] and issued(KEYS[3], 'n') >= tonumber(ARGV[5]) then
  return {'ip_cap', wait_below(KEYS[3], 'n', tonumber(ARGV[5]))}
end

charge(KEYS[2], count_field, 1)
if cooldown > 0 then
  redis.call('HSET', KEYS[2], cooldown_field, now + cooldown)
  outlive(KEYS[2], cooldown)
end
if KEYS[3] then
  charge(KEYS[3], 'n', 1)
end

if ARGV[1] ~= '' then
  -- Replace, never merge: the previous code (and its attempt count) is gone.
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'd', ARGV[1], 'a', 0)
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
end
return {'ok', 0}
