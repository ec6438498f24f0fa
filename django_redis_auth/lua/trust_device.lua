-- The user's trusted devices (mfa/trust.py): one hash, field = keyed digest of a device
-- token, value = its expiry (ms since the epoch).
-- KEYS[1] the hash
--
-- ARGV[1] 'add': ARGV[2] digest, ARGV[3] now (ms), ARGV[4] lifetime (ms), ARGV[5] most
-- devices kept. Expired entries go, then the soonest to expire while over the cap; the key
-- lives as long as its last entry. Returns 1.
--
-- ARGV[1] 'check': ARGV[2] digest, ARGV[3] now (ms). Returns 1 if trusted, else 0.

local now = tonumber(ARGV[3])
if ARGV[1] == 'check' then
  local expiry = tonumber(redis.call('HGET', KEYS[1], ARGV[2]) or '0')
  if expiry > now then return 1 end
  return 0
end

redis.call('HSET', KEYS[1], ARGV[2], now + tonumber(ARGV[4]))
local flat = redis.call('HGETALL', KEYS[1])
local live, latest = {}, 0
for i = 1, #flat, 2 do
  local expiry = tonumber(flat[i + 1])
  if expiry <= now then
    redis.call('HDEL', KEYS[1], flat[i])
  else
    live[#live + 1] = {flat[i], expiry}
    if expiry > latest then latest = expiry end
  end
end
table.sort(live, function(a, b) return a[2] < b[2] end)
for i = 1, #live - tonumber(ARGV[5]) do
  redis.call('HDEL', KEYS[1], live[i][1])
end
redis.call('PEXPIREAT', KEYS[1], latest)
return 1
