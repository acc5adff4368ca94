#!lua flags=allow-oom
-- meta: the metadata of entry k of table t (a scan's lookup): nil when it
-- is gone or invalidated, else {created, expires, size, hits, origin,
-- tags, seq}.
local p, t, k = ARGV[1], ARGV[2], ARGV[3]
--#include common.lua
local pre = p .. ':{' .. t .. '}:'
local f = redis.call('HMGET', pre .. 'e:' .. k, 'created', 'expires', 'size', 'hits', 'origin', 'tags', 'seq')
if not f[6] or is_dead(pre, f[7], f[6]) then return false end
return f
