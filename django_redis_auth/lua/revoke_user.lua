-- Revoke every token of a user: a new session epoch, and an empty device list.
-- KEYS[1] epoch key, KEYS[2] the user's session index, KEYS[3] the user's trusted devices
-- ARGV[1] the new epoch
--
-- Returns 1. The epoch keeps its TTL (it already covers the user's newest token); without
-- an epoch there is no live token and SET XX writes nothing. One script, not two pipelined
-- commands: at maxmemory Redis refuses a script's first write that needs memory (this SET)
-- and so the whole script, where a pipeline would refuse the SET and still run the DEL,
-- emptying the device list of sessions that stay valid.
redis.call('SET', KEYS[1], ARGV[1], 'XX', 'KEEPTTL')
redis.call('DEL', KEYS[2], KEYS[3])
return 1
