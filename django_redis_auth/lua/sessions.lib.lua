-- Shared by open_session.lua and rotate_refresh.lua (store.py pastes it where a script says
-- `include sessions` after the comment dashes): the epoch's and the session index's TTLs only grow, since they
-- must outlive the newest family that depends on them.

--#include ttl

-- List family `member` in the user's session index until `now + ttl` (scores are expiry
-- times), dropping the members that have expired. The expiry is a token's `exp` (whole
-- seconds), so sessions used within one second would tie and the cap would end any of
-- them: the score also carries the millisecond of this use as a fraction below 1 ms, which
-- keeps them in order of use and moves no expiry by a whole millisecond.
local function index_family(index, member, now, ttl)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
  redis.call('ZADD', index, now + ttl + (now % 1000) / 1000, member)
  outlive(index, ttl)
end
