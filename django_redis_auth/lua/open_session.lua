-- Register a new session family for a user and return the user's session epoch.
-- KEYS[1] epoch key, KEYS[2] family key, KEYS[3] the user's session index,
-- KEYS[4] the user's activity list, KEYS[5] the user's known devices (hash: device → ms)
-- ARGV[1] epoch to create if none exists, ARGV[2] refresh lifetime (ms),
-- ARGV[3] the family's record (families.py), ARGV[4] family id, ARGV[5] now (ms),
-- ARGV[6] most live sessions per user (0: no cap), ARGV[7] most activity entries,
-- ARGV[8] how long activity entries and known devices are kept (ms),
-- ARGV[9] this device's fingerprint ('' = not tracked), ARGV[10] most known devices,
-- ARGV[11] the sign-in's method, ARGV[12] ip, ARGV[13] user agent (for the activity entry)
--
-- Returns {epoch, new_device, ended...}: new_device is 1 when the account knew other
-- devices but not this one within ARGV[8] (a notice is due); `ended` lists the families the
-- cap ended (least recently used first: the index is scored by expiry, which every refresh
-- pushes back).
--
-- A missing epoch means every earlier token is void (never issued, expired, or lost with
-- Redis data), so a fresh random epoch is safe, and every family the index lists is dead.
-- The epoch's and the index's TTLs only grow: they must outlive the newest family.
--#include sessions
--#include activity

local ttl, now = tonumber(ARGV[2]), tonumber(ARGV[5])
local cap, maxlen, keep = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local epoch = redis.call('GET', KEYS[1])
-- A write that needs memory first: at maxmemory Redis refuses only a script's *first* such
-- write, so after a PEXPIRE this SET would go through and a full Redis would still sign in.
redis.call('SET', KEYS[2], ARGV[3], 'PX', ttl)
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch, 'PX', ttl)
  redis.call('DEL', KEYS[3])
else
  outlive(KEYS[1], ttl)
end
index_family(KEYS[3], ARGV[4], now, ttl)
record_activity(KEYS[4], now, maxlen, keep, 'sign_in', ARGV[11], ARGV[12], ARGV[13], ARGV[4])

-- The cap: one session more ends the least recently used. Its family key goes (a missing
-- family is refused like a revoked one, and keeping a marker would let a login loop grow
-- Redis after all). Family keys share KEYS[2]'s hash tag (one slot): the name differs only
-- in the family id.
local ended = {}
if cap > 0 then
  local over = redis.call('ZCARD', KEYS[3]) - cap
  if over > 0 then
    local prefix = string.sub(KEYS[2], 1, #KEYS[2] - #ARGV[4])
    for _, family in ipairs(redis.call('ZRANGE', KEYS[3], 0, over - 1)) do
      redis.call('DEL', prefix .. family)
      redis.call('ZREM', KEYS[3], family)
      record_activity(KEYS[4], now, maxlen, keep, 'session_ended', 'capped', '', '', family)
      ended[#ended + 1] = family
    end
  end
end

-- New device: known devices by fingerprint (user agent family + network), last seen.
local new_device = 0
if ARGV[9] ~= '' then
  local known = redis.call('HLEN', KEYS[5])
  local last = tonumber(redis.call('HGET', KEYS[5], ARGV[9]) or '0')
  if known > 0 and now - last > keep then new_device = 1 end
  redis.call('HSET', KEYS[5], ARGV[9], now)
  if known >= tonumber(ARGV[10]) then
    -- Over the bound: forget the device seen longest ago.
    local flat, oldest, oldest_ms = redis.call('HGETALL', KEYS[5]), nil, nil
    for i = 1, #flat, 2 do
      local ms = tonumber(flat[i + 1])
      if oldest_ms == nil or ms < oldest_ms then oldest, oldest_ms = flat[i], ms end
    end
    if oldest then redis.call('HDEL', KEYS[5], oldest) end
  end
  redis.call('PEXPIRE', KEYS[5], keep)
end
local answer = {epoch, new_device}
for _, family in ipairs(ended) do answer[#answer + 1] = family end
return answer
