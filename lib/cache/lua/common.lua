-- common: the functions the scripts that read or remove entries share.
-- A script includes this file with the line "--#include common.lua"
-- (scripts/lua-to-c puts the file there at build time); it is never run
-- alone. Keys are laid out as icecache-keys(7) says.

-- Remove entry k from the sets of its tags (tl: the tags joined by "\n"),
-- and a tag whose set is left empty from the table's list of tags.
local function unref(pre, k, tl)
  for ot in string.gmatch(tl, '[^\n]+') do
    local s = pre .. 't:' .. ot
    if redis.call('SREM', s, k) == 1 and redis.call('SCARD', s) == 0 then
      redis.call('SREM', pre .. 'tags', ot)
    end
  end
end

-- Remove entry k of table t with every reference to it.
local function drop(p, t, k, tl)
  local pre = p .. ':{' .. t .. '}:'
  unref(pre, k, tl)
  redis.call('SREM', pre .. 'all', k)
  redis.call('DEL', pre .. 'e:' .. k)
  local kk = p .. ':k:' .. k
  if redis.call('GET', kk) == t then redis.call('DEL', kk) end
end

-- Whether an entry (its seq and tags) is covered by an invalidation mark
-- not yet drained: the whole table's ("") or one of its tags'.
local function is_dead(pre, seq, tl)
  if redis.call('EXISTS', pre .. 'dead') == 0 then return false end
  local s = tonumber(seq) or 0
  local d = redis.call('HGET', pre .. 'dead', '')
  if d and tonumber(d) > s then return true end
  for ot in string.gmatch(tl, '[^\n]+') do
    d = redis.call('HGET', pre .. 'dead', ot)
    if d and tonumber(d) > s then return true end
  end
  return false
end
