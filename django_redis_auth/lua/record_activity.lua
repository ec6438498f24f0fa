-- Record security events of one user (activity.py) outside a script that already records
-- them. KEYS[1] the user's activity list.
-- ARGV[1] now (ms), ARGV[2] most entries, ARGV[3] how long entries are kept (ms), then per
-- event five values: type, method, ip, user agent, session. Returns the number recorded.
--#include activity

local now, maxlen, keep = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local n = 0
for i = 4, #ARGV, 5 do
  record_activity(KEYS[1], now, maxlen, keep, ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4])
  n = n + 1
end
return n
