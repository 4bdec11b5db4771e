--- Paging iterators (API.md 0.2): `eachVehicleId`, `Vehicle:eachPermission`,
-- `eachConnection`; API V3's `Application:eachConnection`, `Application:eachSubscription`.
-- Pages are fetched lazily, one when the last one is used up; on a failure the iterator gives `false, err` once and then ends.
-- @submodule smartcar

local core = require "smartcar.core"
local show = require("smartcar.config").show
core.own()

local type, tonumber, floor = type, tonumber, math.floor

local M = {}

local OPTIONS = { pageSize = true }

--- The `pageSize` of an iterator's options (argument `arg` of `fname`), or `default`.
function M.pageSize(options, arg, fname, default, max)
  options = core.checkOptions(options, arg, fname, OPTIONS)
  local n = options.pageSize
  if n == nil then return default end
  if type(n) ~= "number" or n ~= floor(n) or n < 1 or n > max then
    core.optionError("pageSize", fname, ("a whole number from 1 to %d expected, got %s"):format(max, show(n)))
  end
  return n
end

-- An iterator over pages: `fetch(position)` gives the page's items and the next
-- position (nil after the last page), or nil and an error.
local function iterate(fetch)
  local items, i, position, started, done = nil, 0, nil, false, false
  return function()
    while not done do
      if items and i < #items then
        i = i + 1
        return items[i]
      end
      if started and position == nil then break end
      started = true
      local list, next_position = fetch(position)
      if list == nil then
        done = true
        return false, next_position
      end
      items, i, position = list, 0, next_position
      if #items == 0 then break end
    end
    done = true
    return nil
  end
end

--- Items of a list paged by limit and offset: `get(limit, offset)` gives a page with
-- the list under `key` and `paging.count`, the total.
function M.byOffset(get, key, size)
  return iterate(function(offset)
    offset = offset or 0
    local page, err = get(size, offset)
    if not page then return nil, err end
    local list = type(page[key]) == "table" and page[key] or {}
    local total = type(page.paging) == "table" and tonumber(page.paging.count)
    local after = offset + #list
    if #list < size or (total and after >= total) then return list, nil end
    return list, after
  end)
end

--- Items of a list paged by an opaque cursor: `get(limit, cursor)` gives a page with the
-- list under `key` and `paging.cursor` (null on the last page).
function M.byCursor(get, key, size)
  return iterate(function(cursor)
    local page, err = get(size, cursor)
    if not page then return nil, err end
    local list = type(page[key]) == "table" and page[key] or {}
    local nxt = type(page.paging) == "table" and page.paging.cursor
    return list, type(nxt) == "string" and nxt ~= "" and nxt or nil
  end)
end

--- Items of a list paged by page number (API V3's `page[number]`, from 1): `get(size, number)`
-- gives the page's list and whether a page follows it, or nil and an error.
function M.byNumber(get, size)
  return iterate(function(number)
    number = number or 1
    local list, more = get(size, number)
    if list == nil then return nil, more end
    return list, (more and #list > 0) and number + 1 or nil
  end)
end

return M
