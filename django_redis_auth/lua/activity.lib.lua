-- Shared by the scripts that record a security event (store.py pastes it where a script says
-- `include activity` after the comment dashes): the user's activity list, capped by count and
-- by age, living as long as its newest entry may be shown.
--
-- A list of strings, newest first: id, type, method, ip, user agent, session joined by the
-- unit separator (\31, which none of them can hold: the user agent is cut to printable
-- characters). A list, not a stream: on Redis 7 a new stream preallocates a 4 KB node, about
-- 4.3 KB per user for one entry against 0.3 KB for a list (benchmarks, section 5).

-- Prepend one event at `now` (ms). Its id is `<ms>-<n>`: the time, and a counter that keeps
-- ids unique and decreasing down the list when several events share a millisecond (or the
-- clock of another worker is behind). At most `maxlen` entries, none older than `keep_ms`.
local function record_activity(key, now, maxlen, keep_ms, kind, method, ip, agent, session)
  local ms, n = now, 0
  local top = redis.call('LINDEX', key, 0)
  if top then
    local top_ms, top_n = string.match(top, '^(%d+)-(%d+)')
    top_ms, top_n = tonumber(top_ms), tonumber(top_n)
    if top_ms and top_ms >= ms then ms, n = top_ms, top_n + 1 end
  end
  local sep = string.char(31)
  redis.call('LPUSH', key, ms .. '-' .. n .. sep .. kind .. sep .. method .. sep .. ip .. sep .. agent .. sep .. session)
  redis.call('LTRIM', key, 0, maxlen - 1)
  local oldest = now - keep_ms
  for _ = 1, maxlen do
    local tail = redis.call('LINDEX', key, -1)
    if not tail or tonumber(string.match(tail, '^(%d+)')) >= oldest then break end
    redis.call('RPOP', key)
  end
  redis.call('PEXPIRE', key, keep_ms)
end
