#!lua flags=allow-oom
-- gc: remove from one set of this table (t:TAG, or all) the members the
-- caller found (SSCAN) whose entry no longer exists (TTL expiry), and the
-- tag from the list of tags when its set is left empty. KEYS: tags, the
-- set, then e:KEY per member. ARGV: the tag ("" for all), the members.
-- Returns the number of dangling references removed.
local tag, removed = ARGV[1], 0
for i = 2, #ARGV do
  if redis.call('EXISTS', KEYS[i + 1]) == 0 then
    removed = removed + redis.call('SREM', KEYS[2], ARGV[i])
  end
end
if tag ~= '' and redis.call('SCARD', KEYS[2]) == 0 then redis.call('SREM', KEYS[1], tag) end
return removed
