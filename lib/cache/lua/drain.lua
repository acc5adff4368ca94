#!lua flags=allow-oom
-- drain: look at about budget members of the sets being drained in table
-- t (SSCAN, its cursor kept in P:{T}:cur per job) and remove the entries
-- older than their job's mark. Returns {entries removed, drain jobs left}.
local p, t, budget = ARGV[1], ARGV[2], tonumber(ARGV[3])
--#include common.lua
local pre = p .. ':{' .. t .. '}:'
local work, removed = 0, 0
while work < budget do
  local job = redis.call('SRANDMEMBER', pre .. 'drain')
  if not job then break end
  local nl = string.find(job, '\n', 1, true)
  local g = tonumber(string.sub(job, 1, nl - 1))
  local marker = string.sub(job, nl + 2)
  local set = string.sub(job, nl + 1, nl + 1) == '*' and pre .. 'all' or pre .. 't:' .. marker
  local r = redis.call('SSCAN', set, redis.call('HGET', pre .. 'cur', job) or '0',
                       'COUNT', math.max(10, budget - work))
  for _, k in ipairs(r[2]) do
    work = work + 1
    local f = redis.call('HMGET', pre .. 'e:' .. k, 'seq', 'tags')
    if not f[2] then
      redis.call('SREM', set, k)
    elseif (tonumber(f[1]) or 0) < g then
      drop(p, t, k, f[2])
      removed = removed + 1
    end
  end
  work = work + 1
  if r[1] == '0' then
    redis.call('SREM', pre .. 'drain', job)
    redis.call('HDEL', pre .. 'cur', job)
    if redis.call('HGET', pre .. 'dead', marker) == tostring(g) then
      redis.call('HDEL', pre .. 'dead', marker)
    end
  else
    redis.call('HSET', pre .. 'cur', job, r[1])
  end
end
if removed > 0 then
  redis.call('HINCRBY', pre .. 'stats', 'invalidated', removed)
  redis.call('HINCRBY', p .. ':stats', 'invalidated', removed)
end
return {removed, redis.call('SCARD', pre .. 'drain')}
