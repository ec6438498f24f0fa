-- Write a user fetched from the database into the cache, unless the user was invalidated
-- since the version was read (before the database read): then the row may predate the
-- change that invalidated it, and writing it would undo the invalidation.
--
-- KEYS[1]  version key   P:{uID}:uver
-- KEYS[2]  cache key     P:{uID}:user
-- ARGV[1]  version seen before the database read ('' if there was none)
-- ARGV[2]  serialized user
-- ARGV[3]  TTL in seconds
--
-- Returns 1 if written, 0 if skipped.
local current = redis.call('GET', KEYS[1]) or ''
if current ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
return 1
