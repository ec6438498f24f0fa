-- The records of a user's indexed families, dropping dead members from the index.
-- KEYS[1] the user's session index (sorted set of family ids), KEYS[2..n+1] family keys
-- ARGV[1] revoked marker, ARGV[2..n+1] the family ids of KEYS[2..n+1]
--
-- Returns a flat list {id, record, id, record, ...} of the live families. Families that
-- are revoked or gone (expired, lost) are removed from the index in the same step.
local live = {}
for i = 2, #KEYS do
  local value = redis.call('GET', KEYS[i])
  if value and value ~= ARGV[1] then
    live[#live + 1] = ARGV[i]
    live[#live + 1] = value
  else
    redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return live
