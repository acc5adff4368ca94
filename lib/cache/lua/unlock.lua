#!lua flags=allow-oom
-- unlock: release lock name only for its holder token. Returns 1.
local p, name, token = ARGV[1], ARGV[2], ARGV[3]
local l = p .. ':l:' .. name
if redis.call('GET', l) == token then redis.call('DEL', l) end
return 1
