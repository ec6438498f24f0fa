-- One second-step attempt (mfa/factors.py), atomically: a TOTP code whose rightness the
-- caller computed already, or the two halves of a recovery-code try around its database
-- lookup.
-- KEYS[1] the attempt scope's hash (a login challenge): 'n' wrong codes, 'x' spent
-- KEYS[2] the user's second-step limits hash: 't' wrong TOTP codes over the sliding hour
-- KEYS[3] the user's newest accepted TOTP time step
-- KEYS[4] (optional; absent on Redis Cluster) the client IP's limits hash: 'g' wrong codes
-- ARGV[1] action: 'totp', 'take' (a recovery code is about to be looked up), 'settle'
--         (the looked-up recovery code was right) or 'peek' (is the scope still open?)
-- ARGV[2] wrong codes a scope takes before it dies, ARGV[3] the scope's lifetime (ms)
-- ARGV[4] wrong TOTP codes per user and sliding hour (0 = no cap)
-- ARGV[5] 'totp': the time step the code matched ('' = it matched none)
-- ARGV[6] 'totp': how long the accepted step is remembered (ms)
-- ARGV[7] wrong codes per client IP and sliding hour (with KEYS[4])
-- ARGV[8] '1': a passing code spends the scope (a login challenge); '0': it does not (a
--         session's reauthentication, whose scope outlives one code)
--
-- Returns {outcome, ms}. 'totp': 'ok' (the step is newer than any accepted before: now it
-- is the newest, and the scope is spent), 'wrong' (counted), 'destroyed' (this wrong code
-- was the scope's last), 'dead' (the scope died of wrong codes before: nothing counted),
-- 'spent' (a code passed in this scope already: nothing counted),
-- 'capped' (the user is over the hourly cap: nothing looked at; ms = the wait).
-- 'take': 'taken' (one wrong code counted in advance; the second value is the scope's
-- count now), 'dead', 'spent', or 'ip_cap' (ms = the wait).
-- 'settle': 'ok' (the advance count is given back and the scope spent), or 'spent' (the
-- count is given back, but another proof spent the scope first: refuse this one).
-- 'peek': 'open', 'dead' or 'spent'; nothing counted or written.
--
-- A replayed code (a step not newer than the newest accepted) is a wrong code. Every check
-- comes before any answer and the script runs atomically, so parallel requests never get
-- more tries than the caps, and one step is accepted once across every worker.

--#include limits

local scope, account, used, ip = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local action = ARGV[1]
local max_wrong = tonumber(ARGV[2])
local scope_ms = tonumber(ARGV[3])

if action == 'settle' then
  -- The advance count goes back either way: the proof was right.
  redis.call('HINCRBY', scope, 'n', -1)
  outlive(scope, scope_ms)
  if ip then
    charge(ip, 'g', -1)
  end
  if ARGV[8] ~= '0' then
    -- Spending is the claim: of two right proofs in flight for one login challenge (two
    -- passkey answers, a passkey and a recovery code) only the first here opens a session.
    if redis.call('HGET', scope, 'x') then
      return {'spent', 0}
    end
    redis.call('HSET', scope, 'x', '1')
  end
  return {'ok', 0}
end

if redis.call('HGET', scope, 'x') then
  return {'spent', 0}
end
if tonumber(redis.call('HGET', scope, 'n') or '0') >= max_wrong then
  return {'dead', 0}
end
if action == 'peek' then
  return {'open', 0}
end

local function count_wrong()
  local n = redis.call('HINCRBY', scope, 'n', 1)
  outlive(scope, scope_ms)
  return n
end

if action == 'take' then
  local ip_cap = tonumber(ARGV[7] or '0')
  if ip and ip_cap > 0 and issued(ip, 'g') >= ip_cap then
    return {'ip_cap', wait_below(ip, 'g', ip_cap)}
  end
  local n = count_wrong()
  if ip and ip_cap > 0 then
    charge(ip, 'g', 1)
  end
  return {'taken', n}
end

-- action == 'totp'
local cap = tonumber(ARGV[4])
if cap > 0 and issued(account, 't') >= cap then
  return {'capped', wait_below(account, 't', cap)}
end
local step = ARGV[5]
if step ~= '' then
  local newest = redis.call('GET', used)
  if not newest or tonumber(newest) < tonumber(step) then
    redis.call('SET', used, step, 'PX', ARGV[6])
    if ARGV[8] ~= '0' then
      redis.call('HSET', scope, 'x', '1')
      outlive(scope, scope_ms)
    end
    return {'ok', 0}
  end
end
local n = count_wrong()
if cap > 0 then
  charge(account, 't', 1)
end
if n >= max_wrong then
  return {'destroyed', 0}
end
return {'wrong', 0}
