-- Count one introspection request of a client (fleet/introspection.py): a fixed window of
-- ARGV[2] ms per client, at most ARGV[1] requests in it.
-- KEYS[1] the client's counter
-- Returns 0 (counted, go on) or the ms until the window ends (over the limit). The window
-- starts with its first request and its key expires with it, so nothing outlives it.

local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if count <= tonumber(ARGV[1]) then
  return 0
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  -- A counter without its expiry (never written so by this script): start a window.
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return ttl
