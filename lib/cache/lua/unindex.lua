#!lua flags=allow-oom
-- unindex: remove the index P:k:KEY (KEYS[1]) only while it still names
-- table ARGV[1] (a put may have moved the key meanwhile). Returns 1.
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
