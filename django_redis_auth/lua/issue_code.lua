-- Issue a one-time code: limits, replacement and expiry in one atomic step.
-- KEYS[1] code hash (email + purpose), KEYS[2] the email's limits hash,
-- KEYS[3] (optional) hourly counter of the client IP
-- ARGV[1] HMAC digest of the new code, or '' for a dry run (limits only, no code stored)
-- ARGV[2] now (ms), ARGV[3] code lifetime (ms), ARGV[4] resend cooldown (ms)
-- ARGV[5] hourly cap per email and purpose, ARGV[6] hour window number,
-- ARGV[7] ms until the hour window ends, ARGV[8] hourly cap per IP, ARGV[9] purpose tag
--
-- The limits hash holds everything one address needs for its limits, in one key (a key
-- costs more memory than a field): 'w' = the hour window its counts belong to,
-- 'n<tag>' = codes of that purpose issued in it, 'c<tag>' = end of that purpose's resend
-- cooldown (ms). It expires when neither the window nor any cooldown matters any more.
--
-- Returns {'ok', 0} or {'cooldown' | 'email_cap' | 'ip_cap', ms until a retry can succeed}.
-- Every limit is checked before anything is written, so a refused request changes nothing.
-- On Redis Cluster the IP counter lives in another slot: the caller then omits KEYS[3] and
-- runs cap_counter.lua for it first.

local now = tonumber(ARGV[2])
local cooldown = tonumber(ARGV[4])
local window, window_ms = ARGV[6], tonumber(ARGV[7])
local count_field, cooldown_field = 'n' .. ARGV[9], 'c' .. ARGV[9]

local limits = redis.call('HMGET', KEYS[2], 'w', cooldown_field, count_field)
local cooldown_ends = tonumber(limits[2] or '0')
if cooldown_ends > now then
  return {'cooldown', cooldown_ends - now}
end
local same_window = limits[1] == window
local issued = same_window and tonumber(limits[3] or '0') or 0
if issued >= tonumber(ARGV[5]) then
  return {'email_cap', window_ms}
end
if KEYS[3] then
  local by_ip = tonumber(redis.call('GET', KEYS[3]) or '0')
  if by_ip >= tonumber(ARGV[8]) then
    local ttl = redis.call('PTTL', KEYS[3])
    return {'ip_cap', ttl > 0 and ttl or 1000}
  end
end

if not same_window then
  -- A new hour: every purpose's count starts again.
  local fields = redis.call('HKEYS', KEYS[2])
  for _, field in ipairs(fields) do
    if string.sub(field, 1, 1) == 'n' then
      redis.call('HDEL', KEYS[2], field)
    end
  end
  redis.call('HSET', KEYS[2], 'w', window)
end
redis.call('HINCRBY', KEYS[2], count_field, 1)
local keep_ms = window_ms
if cooldown > 0 then
  redis.call('HSET', KEYS[2], cooldown_field, now + cooldown)
  keep_ms = math.max(keep_ms, cooldown)
end
if redis.call('PTTL', KEYS[2]) < keep_ms then
  redis.call('PEXPIRE', KEYS[2], keep_ms)
end

if KEYS[3] then
  redis.call('INCR', KEYS[3])
  -- Only a counter created just now gets an expiry, so the fixed hour window is not
  -- stretched; a counter can never outlive its window.
  if redis.call('PTTL', KEYS[3]) < 0 then
    redis.call('PEXPIRE', KEYS[3], window_ms)
  end
end

if ARGV[1] ~= '' then
  -- Replace, never merge: the previous code (and its attempt count) is gone.
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'd', ARGV[1], 'a', 0)
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
end
return {'ok', 0}
