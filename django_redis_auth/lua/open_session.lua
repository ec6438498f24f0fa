-- Register a new session family for a user and return the user's session epoch.
-- KEYS[1] epoch key, KEYS[2] family key, KEYS[3] the user's session index
-- ARGV[1] epoch to create if none exists, ARGV[2] refresh lifetime (ms),
-- ARGV[3] the family's record (families.py), ARGV[4] family id, ARGV[5] now (ms)
--
-- A missing epoch means every earlier token is void (never issued, expired, or lost with
-- Redis data), so a fresh random epoch is safe, and every family the index lists is dead.
-- The epoch's and the index's TTLs only grow: they must outlive the newest family.
--#include sessions

local ttl, now = tonumber(ARGV[2]), tonumber(ARGV[5])
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
return epoch
