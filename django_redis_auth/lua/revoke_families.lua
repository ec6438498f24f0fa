-- Revoke session families of one user by id, and take them off the device list.
-- KEYS[1] the user's session index, KEYS[2..n+1] family keys
-- ARGV[1] revoked marker, ARGV[2..n+1] the family ids of KEYS[2..n+1]
--
-- Returns the previous value of each family key, in order (nil where it was gone). KEEPTTL:
-- a revoked family dies exactly when its newest token would have. One script, not pipelined
-- commands: at maxmemory Redis refuses a script's first write that needs memory (the first
-- SET) and so the whole script, where a pipeline would refuse the SETs and still run the
-- ZREM, hiding devices that stay signed in.
local previous = {}
for i = 2, #KEYS do
  previous[i - 1] = redis.call('SET', KEYS[i], ARGV[1], 'XX', 'KEEPTTL', 'GET')
end
redis.call('ZREM', KEYS[1], unpack(ARGV, 2))
return previous
