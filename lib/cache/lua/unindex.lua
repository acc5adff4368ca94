#!lua flags=allow-oom
-- unindex: remove each index key P:k:KEY of KEYS only while it still
-- names table ARGV[1] as the home (its first line: a put may have moved
-- the key meanwhile). On a
-- cluster the caller sends one key per call (each its own slot); on one
-- server many. Returns 1.
for _, kk in ipairs(KEYS) do
  local v = redis.call('GET', kk)
  if v and (v == ARGV[1] or string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. '\n') then
    redis.call('DEL', kk)
  end
end
return 1
