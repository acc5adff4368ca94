#!lua flags=allow-oom
-- drop: remove entry k of this table with every reference to it. KEYS:
-- e:KEY, all, tags, dead, the sets of its tags as the caller believes
-- them (ARGV[2], "\n"-joined; the tags one each from ARGV[3]). Returns
-- {code, stored tags}: -1 the stored entry has other tags (nothing
-- changed: declare those and call again), 0 no entry, 1 a live entry
-- removed, 2 an invalidated one removed.
local k, declared = ARGV[1], ARGV[2]
--#include common.lua
local f = redis.call('HMGET', KEYS[1], 'seq', 'tags')
if not f[2] then return {0, ''} end
if f[2] ~= declared then return {-1, f[2]} end
local dead = is_dead(KEYS[4], f[1], f[2])
unref(KEYS[3], k, 5, 3, #ARGV - 2)
redis.call('SREM', KEYS[2], k)
redis.call('DEL', KEYS[1])
return {dead and 2 or 1, ''}
