-- Shared by issue_code.lua and cap_counter.lua (store.py pastes it where a script says
-- `--#include limits`).
--
-- A limits hash holds one address's (or one client IP's) rate-limit state in one key: a key
-- costs more memory than a field. Fields: 'w' = the hour window its counts belong to,
-- 'n<B>' = codes charged to budget B in that window, 'c<T>' = when purpose T's resend
-- cooldown ends (ms). Every time comes from this server's clock (TIME), never from the
-- application servers', so their clock skew can neither reset a count nor skip a cooldown.

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local HOUR_MS = 3600000
local window = math.floor(now / HOUR_MS)
local window_ms = (window + 1) * HOUR_MS - now -- until the fixed clock hour ends

-- Codes charged to `field` in this hour window (0 if the hash holds an older window).
local function issued(key, field)
  local state = redis.call('HMGET', key, 'w', field)
  if tonumber(state[1]) ~= window then
    return 0
  end
  return tonumber(state[2] or '0')
end

-- Keep `key` at least `ms` longer; never shorten what another field needs.
local function keep(key, ms)
  if redis.call('PTTL', key) < ms then
    redis.call('PEXPIRE', key, ms)
  end
end

-- Charge one code to `field` (by = 1) or give one back (by = -1) in this hour window.
local function charge(key, field, by)
  if tonumber(redis.call('HGET', key, 'w')) ~= window then
    if by < 0 then
      return -- nothing of this window to give back
    end
    -- A new hour: every count starts again (cooldown fields stay). HSET before HDEL: at
    -- maxmemory Redis refuses only a script's first write that needs memory.
    redis.call('HSET', key, 'w', window)
    for _, name in ipairs(redis.call('HKEYS', key)) do
      if string.sub(name, 1, 1) == 'n' then
        redis.call('HDEL', key, name)
      end
    end
  end
  if by < 0 and tonumber(redis.call('HGET', key, field) or '0') <= 0 then
    return
  end
  redis.call('HINCRBY', key, field, by)
  keep(key, window_ms)
end
