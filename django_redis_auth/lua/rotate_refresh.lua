-- Rotate a refresh token atomically, detecting reuse.
-- KEYS[1] epoch key, KEYS[2] family key, KEYS[3] revoked-jti key of the presented token
-- ARGV[1] epoch claim, ARGV[2] presented jti, ARGV[3] new refresh jti,
-- ARGV[4] refresh lifetime (ms), ARGV[5] revoked marker
--
-- Returns 'ok' (the new jti is now the family's only live refresh token), 'revoked'
-- (session, user or token already revoked, or state lost), or 'reused' (an older refresh
-- token of a live family was presented: the family is revoked for good).
local epoch = redis.call('GET', KEYS[1])
if not epoch or epoch ~= ARGV[1] then
  return 'revoked'
end
if redis.call('EXISTS', KEYS[3]) == 1 then
  return 'revoked'
end
local current = redis.call('GET', KEYS[2])
if not current or current == ARGV[5] then
  return 'revoked'
end
if current ~= ARGV[2] then
  redis.call('SET', KEYS[2], ARGV[5], 'KEEPTTL')
  return 'reused'
end
local ttl = tonumber(ARGV[4])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ttl)
if redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return 'ok'
