-- Shared by every script whose keys must outlive what depends on them (store.py pastes it
-- where a script or library says `include ttl` after the Lua comment dashes).

-- Keep `key` alive at least `ms` longer; never shorten it (another field or a newer
-- family may need the longer TTL).
local function outlive(key, ms)
  if redis.call('PTTL', key) < ms then
    redis.call('PEXPIRE', key, ms)
  end
end
