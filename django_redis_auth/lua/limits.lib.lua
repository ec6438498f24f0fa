-- Shared by issue_code.lua, cap_counter.lua, verify_code.lua and password_guard.lua
-- (store.py pastes it where a script says `include limits` after the Lua comment dashes).
--
-- A limits hash holds one address's (or one client IP's) rate-limit state in one key: a key
-- costs more memory than a field. Each count is one field holding the counts of the last
-- SLICES quarter-hour slices, as "slice:count" pairs ("1963721:3 1963722:1"; slices without
-- counts are left out). Other fields ('c<T>' = when purpose T's resend cooldown ends, ms)
-- are not counts. Every time comes from this server's clock (TIME), never from the
-- application servers', so their clock skew can neither reset a count nor skip a cooldown.
--
-- Why five quarter-hour slices and not the clock hour: with a fixed clock hour a client
-- could spend the whole cap at 10:59 and again at 11:00, about twice the cap in one minute.
-- Here a count covers the current slice and the four before it, between 60 and 75 minutes
-- back. Any 60-minute period lies inside five consecutive slices, so when its last request
-- was counted every earlier request of the period was still counted: no 60 minutes ever
-- hold more than the cap. A request stops counting 60 to 75 minutes after it was made.

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local SLICE_MS = 900000 -- a quarter of an hour
local SLICES = 5
local slice = math.floor(now / SLICE_MS)
local oldest = slice - SLICES + 1

-- The live {slice, count} pairs of `field`, oldest first, and their sum.
local function slices(key, field)
  local raw = redis.call('HGET', key, field)
  local list, total = {}, 0
  if raw then
    for s, c in string.gmatch(raw, '(%d+):(%d+)') do
      s, c = tonumber(s), tonumber(c)
      if s >= oldest and c > 0 then
        list[#list + 1] = {s, c}
        total = total + c
      end
    end
  end
  return list, total
end

-- Requests counted in `field` over the last hour (60 to 75 minutes, see above).
local function issued(key, field)
  local _, total = slices(key, field)
  return total
end

-- Milliseconds until `field` counts fewer than `cap` (0 if it already does).
local function wait_below(key, field, cap)
  local list, total = slices(key, field)
  local wait = 0
  for _, item in ipairs(list) do
    if total < cap then
      break
    end
    total = total - item[2]
    wait = (item[1] + SLICES) * SLICE_MS - now
  end
  return wait
end

--#include ttl

-- Count one request in `field` (by = 1) or give the newest one back (by = -1).
local function charge(key, field, by)
  local list = slices(key, field)
  if by < 0 then
    local last = list[#list]
    if not last then
      return -- nothing live to give back
    end
    last[2] = last[2] - 1
    if last[2] == 0 then
      list[#list] = nil
    end
  elseif list[#list] and list[#list][1] == slice then
    list[#list][2] = list[#list][2] + 1
  else
    list[#list + 1] = {slice, 1}
  end
  if #list == 0 then
    redis.call('HDEL', key, field)
    return
  end
  local parts = {}
  for i, item in ipairs(list) do
    parts[i] = item[1] .. ':' .. item[2]
  end
  redis.call('HSET', key, field, table.concat(parts, ' '))
  outlive(key, (list[#list][1] + SLICES) * SLICE_MS - now)
end
