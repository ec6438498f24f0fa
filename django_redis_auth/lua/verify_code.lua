-- Check a candidate code against the stored one, atomically.
-- KEYS[1] code hash ('d' = HMAC digest of the code, 'a' = attempts so far)
-- KEYS[2] (optional; absent on Redis Cluster) the client IP's limits hash: 'g' = wrong
-- codes it sent over the sliding hour
-- ARGV[1] HMAC digest of the candidate code, ARGV[2] maximum attempts per code,
-- ARGV[3] '1' to consume a right code, '0' to only prove it (kept, no attempt charged),
-- ARGV[4] wrong codes per client IP and sliding hour (with KEYS[2])
--
-- Returns {outcome, ms}: outcome 'ok' (the code was right and is now deleted: single use),
-- 'wrong' (attempt counted, code kept), 'destroyed' (this wrong guess used the last
-- attempt; code deleted), 'missing' (no code: never issued, expired, used, destroyed or
-- replaced) or 'ip_cap' (the client sent too many wrong codes: nothing is looked at or
-- counted, the code keeps its attempts); ms = the wait for 'ip_cap', else 0.
-- A wrong or missing code counts against the client IP: a client that may guess only so
-- often cannot destroy other people's codes at scale.
--
-- The attempt is counted before the comparison and the script runs atomically, so under
-- any concurrency one code yields at most one 'ok' and at most ARGV[2] counted guesses.
--
-- '==' is safe although not constant-time: both sides are keyed HMAC digests, never
-- codes (docs/otp.md, "What is stored, and why it is safe").

--#include limits

if KEYS[2] and issued(KEYS[2], 'g') >= tonumber(ARGV[4]) then
  return {'ip_cap', wait_below(KEYS[2], 'g', tonumber(ARGV[4]))}
end
local function wrong(outcome)
  if KEYS[2] then
    charge(KEYS[2], 'g', 1)
  end
  return {outcome, 0}
end

local stored = redis.call('HGET', KEYS[1], 'd')
if not stored then
  return wrong('missing')
end
local attempts = redis.call('HINCRBY', KEYS[1], 'a', 1)
if stored == ARGV[1] then
  if ARGV[3] == '0' then
    -- Proven but kept (the caller has more checks to pass before it consumes the code):
    -- a right code costs no attempt.
    redis.call('HINCRBY', KEYS[1], 'a', -1)
    return {'ok', 0}
  end
  redis.call('DEL', KEYS[1])
  return {'ok', 0}
end
if attempts >= tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
  return wrong('destroyed')
end
return wrong('wrong')
