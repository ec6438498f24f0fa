-- Check a candidate code against the stored one, atomically.
-- KEYS[1] code hash ('d' = HMAC digest of the code, 'a' = attempts so far)
-- ARGV[1] HMAC digest of the candidate code, ARGV[2] maximum attempts per code,
-- ARGV[3] '1' to consume a right code, '0' to only prove it (kept, no attempt charged)
--
-- Returns 'ok' (the code was right and is now deleted: single use), 'wrong' (attempt
-- counted, code kept), 'destroyed' (this wrong guess used the last attempt; code deleted)
-- or 'missing' (no code: never issued, expired, used, destroyed or replaced).
--
-- The attempt is counted before the comparison and the script runs atomically, so under
-- any concurrency one code yields at most one 'ok' and at most ARGV[2] counted guesses.
--
-- '==' is safe although not constant-time: both sides are keyed HMAC digests, never
-- codes (docs/otp.md, "What is stored, and why it is safe").
local stored = redis.call('HGET', KEYS[1], 'd')
if not stored then
  return 'missing'
end
local attempts = redis.call('HINCRBY', KEYS[1], 'a', 1)
if stored == ARGV[1] then
  if ARGV[3] == '0' then
    -- Proven but kept (the caller has more checks to pass before it consumes the code):
    -- a right code costs no attempt.
    redis.call('HINCRBY', KEYS[1], 'a', -1)
    return 'ok'
  end
  redis.call('DEL', KEYS[1])
  return 'ok'
end
if attempts >= tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
  return 'destroyed'
end
return 'wrong'
