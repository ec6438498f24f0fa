-- Register a new session family for a user and return the user's session epoch.
-- KEYS[1] epoch key, KEYS[2] family key
-- ARGV[1] epoch to create if none exists, ARGV[2] refresh lifetime (ms), ARGV[3] refresh jti
--
-- A missing epoch means every earlier token is void (never issued, expired, or lost with
-- Redis data), so a fresh random epoch is safe. The epoch TTL only grows: it must outlive
-- the newest token carrying it.
local ttl = tonumber(ARGV[2])
local epoch = redis.call('GET', KEYS[1])
-- A write that needs memory first: at maxmemory Redis refuses only a script's *first* such
-- write, so after a PEXPIRE this SET would go through and a full Redis would still sign in.
redis.call('SET', KEYS[2], ARGV[3], 'PX', ttl)
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch, 'PX', ttl)
elseif redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return epoch
