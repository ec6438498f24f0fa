-- Shared by the scripts that record a security event (store.py pastes it where a script says
-- `include activity` after the comment dashes): the user's activity stream, capped by count
-- and by age, living as long as its newest entry may be shown.

-- Append one event to stream `key` at `now` (ms): fields t(ype), m(ethod), i(p), a(gent),
-- s(ession). At most `maxlen` entries, none older than `keep_ms`. The entry id's time part
-- is `now` (the caller's clock, like every other time in these scripts), never older than the
-- stream's newest entry.
local function record_activity(key, now, maxlen, keep_ms, kind, method, ip, agent, session)
  local id = now
  local top = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)[1]
  if top then
    local top_ms = tonumber(string.match(top[1], '^(%d+)'))
    if top_ms > id then id = top_ms end
  end
  redis.call('XADD', key, 'MAXLEN', maxlen, id .. '-*',
    't', kind, 'm', method, 'i', ip, 'a', agent, 's', session)
  redis.call('XTRIM', key, 'MINID', now - keep_ms)
  redis.call('PEXPIRE', key, keep_ms)
end
