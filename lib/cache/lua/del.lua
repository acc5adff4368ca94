#!lua flags=allow-oom
-- del: remove the entries of the keys given, with every reference.
-- Returns the number of live entries removed.
local p = ARGV[1]
local first_key = 2 -- ARGV[2] on: the keys, one each
--#include common.lua
local removed = 0
for i = first_key, #ARGV do
  local k = ARGV[i]
  local kk = p .. ':k:' .. k
  local t = redis.call('GET', kk)
  if t then
    local pre = p .. ':{' .. t .. '}:'
    local f = redis.call('HMGET', pre .. 'e:' .. k, 'seq', 'tags')
    if f[2] then
      if not is_dead(pre, f[1], f[2]) then removed = removed + 1 end
      drop(p, t, k, f[2])
    end
    redis.call('DEL', kk)
  end
end
return removed
