-- Rotate a refresh token atomically, detecting reuse, with an optional grace window.
-- KEYS[1] epoch key, KEYS[2] family key, KEYS[3] revoked-jti key of the presented token,
-- KEYS[4] the user's session index
-- ARGV[1] epoch claim, ARGV[2] digest of the presented jti, ARGV[3] the presented jti,
-- ARGV[4] digest of the successor's jti, ARGV[5] successor's lifetime (ms),
-- ARGV[6] revoked marker, ARGV[7] now (ms), ARGV[8] reuse interval (ms, 0 = none),
-- ARGV[9] now in base 36 (the record's "last used"), ARGV[10] family id
--
-- The record keeps the IP and user agent of the client that opened the session: the device
-- list names the device that signed in, whoever refreshes its tokens later.
--
-- Returns {'ok', 0} (the successor is now the family's only live refresh token),
-- {'replay', minted} (the presented token is the live one's immediate predecessor, rotated
-- at `minted` ms, no longer ago than the interval: the caller mints that same successor
-- again; nothing is written), {'revoked', 0} (session, user or token already revoked, or
-- state lost) or {'reused', 0} (any other already-rotated token: the family is revoked).

--#include sessions

local epoch = redis.call('GET', KEYS[1])
if not epoch or epoch ~= ARGV[1] then
  return {'revoked', 0}
end
if redis.call('EXISTS', KEYS[3]) == 1 then
  return {'revoked', 0}
end
local value = redis.call('GET', KEYS[2])
if not value or value == ARGV[6] then
  return {'revoked', 0}
end
local live, created, last, details = string.match(value, '^([^|]*)|([^|]*)|([^|]*)|(.*)$')
if not live then
  -- A family from before records existed holds the bare jti of its live token.
  live = (value == ARGV[3]) and ARGV[2] or value
  created, last, details = ARGV[9], ARGV[9], '|'
end
local now = tonumber(ARGV[7])
if live == ARGV[2] then
  local ttl = tonumber(ARGV[5])
  redis.call('SET', KEYS[2], ARGV[4] .. '|' .. created .. '|' .. ARGV[9] .. '|' .. details,
    'PX', ttl)
  outlive(KEYS[1], ttl)
  index_family(KEYS[4], ARGV[10], now, ttl)
  return {'ok', 0}
end
local interval = tonumber(ARGV[8])
if interval > 0 and live == ARGV[4] then
  local minted = tonumber(last, 36)
  if minted and now - minted <= interval then
    return {'replay', minted}
  end
end
redis.call('SET', KEYS[2], ARGV[6], 'KEEPTTL')
return {'reused', 0}
