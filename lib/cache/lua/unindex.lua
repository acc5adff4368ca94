#!lua flags=allow-oom
-- unindex: remove each index key P:k:KEY of KEYS only while it still
-- names table ARGV[1] as the home (its first line: a put may have moved
-- the key meanwhile). On a cluster the caller sends one key per call
-- (each its own slot); on one server many, read by MGET and removed by
-- DEL a thousand at a time (a call per key cost more than the keys, and
-- unpack takes up to 8,000 values). Returns 1.
local t = ARGV[1]
local prefix = t .. '\n'
for i = 1, #KEYS, 1000 do
  local last = math.min(i + 999, #KEYS)
  local homes = redis.call('MGET', unpack(KEYS, i, last))
  local gone = {}
  for j = i, last do
    local home = homes[j - i + 1]
    if home and (home == t or string.sub(home, 1, #prefix) == prefix) then
      gone[#gone + 1] = KEYS[j]
    end
  end
  if #gone > 0 then redis.call('DEL', unpack(gone)) end
end
return 1
