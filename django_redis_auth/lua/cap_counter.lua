-- The client IP's hourly cap on its own, for Redis Cluster where the IP's limits hash lives
-- in another hash slot than the email's keys (issue_code.lua does the same in one step on
-- a single Redis), and for requests that charge only the IP.
-- KEYS[1] the IP's limits hash
-- ARGV[1] 'take' or 'give_back', ARGV[2] hourly cap, ARGV[3] (optional) the count's field:
-- 'n' codes issued (default), 'g' wrong codes sent
--
-- 'take' returns 0 and counts one, or the ms until a request can pass again when the cap is
-- reached (nothing counted). 'give_back' undoes a 'take' whose request was refused by a
-- later step, so a refused request costs nothing, as on a single Redis.

--#include limits

local field = ARGV[3] or 'n'
if ARGV[1] == 'give_back' then
  charge(KEYS[1], field, -1)
  return 0
end
if issued(KEYS[1], field) >= tonumber(ARGV[2]) then
  return wait_below(KEYS[1], field, tonumber(ARGV[2]))
end
charge(KEYS[1], field, 1)
return 0
