#!lua flags=allow-oom
-- get: entry k, nil on a miss (gone or invalidated) or {v, created,
-- expires, size, hits, origin, tags}. count "1" counts the hit or miss
-- (get), "0" nothing (peek).
local p, k, count = ARGV[1], ARGV[2], ARGV[3] == '1'
--#include common.lua
local t = redis.call('GET', p .. ':k:' .. k)
local pre = t and (p .. ':{' .. t .. '}:')
local f = t and redis.call('HMGET', pre .. 'e:' .. k, 'seq', 'tags')
if f and f[2] and is_dead(pre, f[1], f[2]) then f = nil end
if not (f and f[2]) then
  if count then
    redis.call('HINCRBY', p .. ':stats', 'misses', 1)
    if t then redis.call('HINCRBY', pre .. 'stats', 'misses', 1) end
  end
  return false
end
local e = pre .. 'e:' .. k
if count then
  redis.call('HINCRBY', e, 'hits', 1)
  redis.call('HINCRBY', p .. ':stats', 'hits', 1)
  redis.call('HINCRBY', pre .. 'stats', 'hits', 1)
end
return redis.call('HMGET', e, 'v', 'created', 'expires', 'size', 'hits', 'origin', 'tags')
