#!lua flags=allow-oom
-- gc: remove table t's references to entries that no longer exist (TTL
-- expiry). Returns the number of dangling references removed.
local p, t = ARGV[1], ARGV[2]
local pre = p .. ':{' .. t .. '}:'
local removed = 0
for _, tag in ipairs(redis.call('SMEMBERS', pre .. 'tags')) do
  local ts = pre .. 't:' .. tag
  for _, k in ipairs(redis.call('SMEMBERS', ts)) do
    if redis.call('EXISTS', pre .. 'e:' .. k) == 0 then
      redis.call('SREM', ts, k)
      removed = removed + 1
    end
  end
  if redis.call('SCARD', ts) == 0 then redis.call('SREM', pre .. 'tags', tag) end
end
for _, k in ipairs(redis.call('SMEMBERS', pre .. 'all')) do
  if redis.call('EXISTS', pre .. 'e:' .. k) == 0 then
    redis.call('SREM', pre .. 'all', k)
    removed = removed + 1
  end
end
return removed
