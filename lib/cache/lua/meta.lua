#!lua flags=allow-oom
-- meta: the metadata of an entry (a scan's lookup): nil when it is gone
-- or invalidated, else {created, expires, size, hits, origin, tags, seq,
-- home, ver} (home set: a guard). KEYS: e:KEY, dead.
--#include common.lua
local f = redis.call('HMGET', KEYS[1], 'created', 'expires', 'size', 'hits', 'origin', 'tags', 'seq',
                     'home', 'ver')
if not f[6] or is_dead(KEYS[2], f[7], f[6]) then return false end
return f
