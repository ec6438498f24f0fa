-- One hourly counter with a cap, for Redis Cluster where the per-IP counter lives in
-- another hash slot than the email's keys (see issue_code.lua, which does the same in one
-- step on a single Redis).
-- KEYS[1] counter
-- ARGV[1] 'take' or 'give_back', ARGV[2] cap, ARGV[3] ms until the hour window ends
--
-- 'take' returns 0 and counts one, or the ms until the window ends when the cap is reached
-- (nothing counted). 'give_back' undoes a 'take' whose request was refused by a later
-- step, so a refused request costs nothing, as on a single Redis.
if ARGV[1] == 'give_back' then
  if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then
    redis.call('DECR', KEYS[1])
  end
  return 0
end
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[2]) then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 1 then
    return 1000
  end
  return ttl
end
redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
end
return 0
