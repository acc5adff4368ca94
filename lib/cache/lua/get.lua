#!lua flags=allow-oom
-- get: entry k, nil on a miss (gone or invalidated) or {v, created,
-- expires, size, hits, origin, tags}. KEYS: e:KEY, dead, stats, gstats.
-- count "1" counts the hit or miss (get), "0" nothing (peek). ver
-- (ARGV[2]): "" for an entry of one table; else the version its guards in
-- the other tables hold (the caller checked them): any other stored
-- version is a miss.
local count, ver = ARGV[1] == '1', ARGV[2]
--#include common.lua
local e = KEYS[1]
local f = redis.call('HMGET', e, 'seq', 'tags', 'ver')
if f[2] and is_dead(KEYS[2], f[1], f[2]) then f[2] = false end
if f[2] and ver ~= '' and f[3] ~= ver then f[2] = false end
if not f[2] then
  if count then
    redis.call('HINCRBY', KEYS[3], 'misses', 1)
    redis.call('HINCRBY', KEYS[4], 'misses', 1)
  end
  return false
end
if count then
  redis.call('HINCRBY', e, 'hits', 1)
  redis.call('HINCRBY', KEYS[3], 'hits', 1)
  redis.call('HINCRBY', KEYS[4], 'hits', 1)
end
return redis.call('HMGET', e, 'v', 'created', 'expires', 'size', 'hits', 'origin', 'tags')
