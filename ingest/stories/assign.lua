-- Story assignment: one call of StoryRegistry (see registry.py for the keys and the protocol).
-- Names written with a dollar sign are filled in from Python constants when it is loaded
-- (a dollar sign of its own is written twice).
local units_key = KEYS[1]
local prefix, article_id, source = ARGV[1], ARGV[2], ARGV[3]
local window_s, periods = tonumber(ARGV[4]), tonumber(ARGV[5])
local fp_shard, fp_field, flash = ARGV[6], ARGV[7], ARGV[8] == '1'
local decision, examined, doc, title = ARGV[9], ARGV[10], ARGV[11], ARGV[12]
local units_max, force = tonumber(ARGV[13]), ARGV[14] == '1'
local repeated_min, assumed = tonumber(ARGV[15]), ARGV[16]
local max_candidates, refs_max = tonumber(ARGV[17]), tonumber(ARGV[18])
local units_arg, shingles_arg = ARGV[19], ARGV[20]
local common_min = tonumber(ARGV[21])
local min_shingles, lede_keys = $min_shingles, $lede_keys
local width, shard_hex = $width, $shard_hex
-- sentence keys: 16 hex digits each; shingles: a 16-digit key, then lede_keys values
local unit_width, shingle_width = 16, 16 + width * lede_keys
local n_units, n_shingles = #units_arg / unit_width, #shingles_arg / shingle_width
local units, shingle_keys = {}, {}
for i = 1, n_units do
  units[i] = string.sub(units_arg, (i - 1) * unit_width + 1, i * unit_width)
end
for s = 1, n_shingles do
  local at = (s - 1) * shingle_width
  shingle_keys[s] = string.sub(shingles_arg, at + 1, at + 16)
end
local function shingle_value(s, k)
  local at = (s - 1) * shingle_width + 16 + width * k
  return string.sub(shingles_arg, at + 1, at + width)
end
local now = tonumber(redis.call('TIME')[1])
local period_s = math.max(1, math.floor(window_s / periods))
local current = math.floor(now / period_s)
local oldest = math.floor((now - window_s) / period_s)
local keep_until = (current + 1) * period_s + window_s
local doc_prefix = prefix .. 'doc:'
-- the outlets of a story: lines 3.. of its first article's doc
local function carried_by(record, outlet)
  return string.find(record .. '\n', '\n' .. outlet .. '\n', 1, true) ~= nil
end
local function bucket(kind, p, shard) return prefix .. kind .. ':' .. p .. ':' .. shard end

-- an exact repeat (a short item: the same words, from another outlet)
local story_id = false
for p = current, oldest, -1 do
  story_id = redis.call('HGET', bucket('fp', p, fp_shard), fp_field)
  if story_id then break end
end
if story_id and flash and carried_by(redis.call('GET', doc_prefix .. story_id) or '', source) then
  story_id = false  -- its own outlet's short item again: a new one (a daily notice)
end
local how = 'exact'
if not story_id and repeated_min > 0 and n_units > 0 then
  -- the source's boilerplate is not compared: when the caller left out less than that
  -- (`assumed`, "|key|key|"), say which sentences it is, and the caller prepares again
  local counts = redis.call('ZMSCORE', units_key, unpack(units))
  local repeated, more = {}, false
  for i = 1, #units do
    if counts[i] and tonumber(counts[i]) >= repeated_min then
      table.insert(repeated, units[i])
      more = more or not string.find(assumed, '|' .. units[i] .. '|', 1, true)
    end
  end
  if more then return {'repeated', repeated} end
end

-- the lede keys: min-hashes over the shingles its source has not made its template; the
-- shingles that gave them are the ones counted (a template's are learned a few at a time)
local fields, keyed, keyed_seen = {}, {}, {}
if n_shingles > 0 then
  local counts = redis.call('ZMSCORE', units_key, unpack(shingle_keys))
  local chosen = {}
  for s = 1, n_shingles do
    if not (counts[s] and tonumber(counts[s]) >= common_min) then table.insert(chosen, s) end
  end
  if #chosen < min_shingles then
    chosen = {}
    for s = 1, n_shingles do chosen[s] = s end
  end
  for k = 0, lede_keys - 1 do
    local low, from = nil, nil
    for _, s in ipairs(chosen) do
      local h = shingle_value(s, k)
      if not low or h < low then low, from = h, s end
    end
    if not keyed_seen[from] then
      keyed_seen[from] = true
      table.insert(keyed, shingle_keys[from])
    end
    -- a minimum's high digits are mostly zeros: its low digits name the bucket
    local cut = width - shard_hex
    table.insert(fields, {string.sub(low, cut + 1), k .. string.sub(low, 1, cut)})
  end
end

local found = 0
local current_refs = {}  -- what the lookup read of this period's fields (false: none)
if not story_id then
  how = 'near'
  if not force and #fields > 0 then
    local seen = {}
    for id in string.gmatch(examined, '[^|]+') do seen[id] = true end
    local votes, latest, order = {}, {}, {}
    for i, f in ipairs(fields) do
      local here, age = {}, 0
      for p = current, oldest, -1 do
        local refs = redis.call('HGET', bucket('lede', p, f[1]), f[2])
        if p == current then current_refs[i] = refs end
        if refs then
          local list = {}
          for ref in string.gmatch(refs, '[^,]+') do table.insert(list, ref) end
          for j = #list, 1, -1 do  -- the latest first
            local ref = list[j]
            if ref ~= article_id and not here[ref] then
              here[ref] = true
              if not votes[ref] then
                votes[ref], latest[ref] = 0, age
                table.insert(order, ref)
              end
              votes[ref] = votes[ref] + 1
              if age < latest[ref] then latest[ref] = age end
            end
            age = age + 1
          end
        end
      end
    end
    found = #order
    table.sort(order, function(x, y)
      if votes[x] ~= votes[y] then return votes[x] > votes[y] end
      if latest[x] ~= latest[y] then return latest[x] < latest[y] end
      return x < y
    end)
    local unexamined = {}
    for j = 1, math.min(#order, max_candidates) do
      local ref = order[j]
      if not seen[ref] then
        local record = redis.call('GET', prefix .. 'doc:' .. ref)
        if record then table.insert(unexamined, {ref, record}) end
      end
    end
    if #unexamined > 0 then return {'check', unexamined, found} end
  end
  if decision ~= '' then story_id = decision end
end

local is_new = 0
if not story_id then story_id, is_new, how = article_id, 1, 'new' end
local fp_bucket = bucket('fp', current, fp_shard)
redis.call('HSET', fp_bucket, fp_field, story_id)
redis.call('EXPIREAT', fp_bucket, keep_until)
local record = story_id .. '|' .. doc
if is_new == 1 then
  record = record .. '\n' .. title .. '\n' .. source
elseif #fields > 0 and article_id ~= story_id then  -- not the first article again
  redis.call('SET', doc_prefix .. article_id, record, 'EX', window_s)
end
if is_new == 0 then
  -- the story's outlets, kept with its first article: this one added, for a window more
  local first = redis.call('GET', doc_prefix .. story_id) or (story_id .. '|\n')
  if article_id == story_id and #fields > 0 then
    -- the first article again with a new text (a developing story): its new kept form
    first = record .. (string.match(first, '^[^\n]*(\n.*)$$') or '\n')
  end
  record = carried_by(first, source) and first or (first .. '\n' .. source)
end
redis.call('SET', doc_prefix .. story_id, record, 'EX', window_s)
for i, f in ipairs(fields) do
  local key = bucket('lede', current, f[1])
  local refs = current_refs[i]
  if refs == nil then refs = redis.call('HGET', key, f[2]) end
  local list = {}
  if refs then
    for ref in string.gmatch(refs, '[^,]+') do
      if ref ~= article_id then table.insert(list, ref) end
    end
  end
  table.insert(list, article_id)
  while #list > refs_max do table.remove(list, 1) end
  redis.call('HSET', key, f[2], table.concat(list, ','))
  redis.call('EXPIREAT', key, keep_until)
end
if is_new == 1 and n_units + n_shingles > 0 then
  for i = 1, n_units do redis.call('ZINCRBY', units_key, 1, units[i]) end
  for _, key in ipairs(keyed) do redis.call('ZINCRBY', units_key, 1, key) end
  local extra = redis.call('ZCARD', units_key) - units_max
  if extra > 0 then
    redis.call('ZREMRANGEBYRANK', units_key, 0, extra - 1)
  end
  redis.call('EXPIRE', units_key, window_s)
end
local listed = {}
for line in string.gmatch(record, '[^\n]+') do table.insert(listed, line) end
table.remove(listed, 1)  -- "<story id>|<Kept>"
local story_title = table.remove(listed, 1) or ''
return {'done', story_id, is_new, listed, how, story_title, found}
