-- Check the first code of a pending authenticator enrolment (mfa/totp.py), atomically.
-- KEYS[1] the pending enrolment hash: 's' the encrypted secret, 'a' wrong codes so far
-- ARGV[1] the encrypted secret the caller checked the code against, ARGV[2] '1' if the code
-- was right, ARGV[3] wrong codes before the enrolment is destroyed
--
-- Returns 'ok' (right: the enrolment is taken, so of parallel confirms one wins),
-- 'wrong' (counted), 'destroyed' (this wrong code was the last allowed: deleted) or
-- 'missing' (no enrolment, or another setup replaced the one the caller read).

if redis.call('HGET', KEYS[1], 's') ~= ARGV[1] then
  return 'missing'
end
if ARGV[2] == '1' then
  redis.call('DEL', KEYS[1])
  return 'ok'
end
if redis.call('HINCRBY', KEYS[1], 'a', 1) >= tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[1])
  return 'destroyed'
end
return 'wrong'
