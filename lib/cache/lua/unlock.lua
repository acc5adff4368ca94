#!lua flags=allow-oom
-- unlock: release lock KEYS[1] only for its holder token ARGV[1]. Returns 1.
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
