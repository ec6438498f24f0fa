-- A pending authenticator enrolment (mfa/totp.py), atomically.
-- KEYS[1] the pending enrolment hash: 's' the encrypted secret, 'a' wrong codes so far
--
-- ARGV[1] 'start': ARGV[2] the encrypted secret, ARGV[3] its lifetime (ms). Replaces any
-- earlier pending enrolment (its wrong codes with it). Returns 'ok'.
--
-- ARGV[1] 'check': ARGV[2] the encrypted secret the caller checked the code against,
-- ARGV[3] '1' if the code was right, ARGV[4] wrong codes before the enrolment is destroyed.
-- Returns 'ok' (right: the enrolment is taken, so of parallel confirms one wins), 'wrong'
-- (counted), 'destroyed' (this wrong code was the last allowed: deleted) or 'missing' (no
-- enrolment, or another setup replaced the one the caller read).

if ARGV[1] == 'start' then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 's', ARGV[2], 'a', 0)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 'ok'
end
if redis.call('HGET', KEYS[1], 's') ~= ARGV[2] then
  return 'missing'
end
if ARGV[3] == '1' then
  redis.call('DEL', KEYS[1])
  return 'ok'
end
if redis.call('HINCRBY', KEYS[1], 'a', 1) >= tonumber(ARGV[4]) then
  redis.call('DEL', KEYS[1])
  return 'destroyed'
end
return 'wrong'
