#!lua
-- put: write entry k of table t (replacing one of the same key, in
-- whatever table), stamped with the table's sequence number. count "1":
-- a put, counted; "0": a restore (migrate), which keeps hits and counts
-- nothing. Returns 1. No flags: refused whole when memory is full.
local p, k, t, v = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local created, expires, size, ttl_ms = ARGV[5], ARGV[6], ARGV[7], tonumber(ARGV[8])
local has_origin, origin, tags_joined, hits = ARGV[9] == '1', ARGV[10], ARGV[11], ARGV[12]
local counted = ARGV[13] == '1'
local first_tag = 14 -- ARGV[14] on: the tags, one each
--#include common.lua
local kk = p .. ':k:' .. k
local old = redis.call('GET', kk)
local pre = p .. ':{' .. t .. '}:'
local e = pre .. 'e:' .. k
for _, ot in ipairs({old or false, t}) do
  if ot then
    local tl = redis.call('HGET', p .. ':{' .. ot .. '}:e:' .. k, 'tags')
    if tl then drop(p, ot, k, tl) end
  end
end
local seq = redis.call('INCR', pre .. 'seq')
redis.call('HSET', e, 'v', v, 'created', created, 'expires', expires,
           'size', size, 'hits', hits, 'tags', tags_joined, 'seq', seq)
if has_origin then redis.call('HSET', e, 'origin', origin) end
redis.call('SET', kk, t)
redis.call('SADD', pre .. 'all', k)
for i = first_tag, #ARGV do
  redis.call('SADD', pre .. 't:' .. ARGV[i], k)
  redis.call('SADD', pre .. 'tags', ARGV[i])
end
if ttl_ms > 0 then
  redis.call('PEXPIRE', e, ttl_ms)
  redis.call('PEXPIRE', kk, ttl_ms)
end
if counted then
  redis.call('HINCRBY', p .. ':stats', 'puts', 1)
  redis.call('HINCRBY', pre .. 'stats', 'puts', 1)
end
return 1
