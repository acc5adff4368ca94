#!lua flags=allow-oom
-- unindex: remove each index key P:k:KEY of KEYS only while it still
-- names table ARGV[1] (a put may have moved the key meanwhile). On a
-- cluster the caller sends one key per call (each its own slot); on one
-- server many. Returns 1.
for _, kk in ipairs(KEYS) do
  if redis.call('GET', kk) == ARGV[1] then redis.call('DEL', kk) end
end
return 1
