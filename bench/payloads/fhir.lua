-- wrk script for bench/rest_bench.py: one script, four scenarios.
--
--   wrk ... -s fhir.lua URL -- healthz
--   wrk ... -s fhir.lua URL -- read   IDS_FILE
--   wrk ... -s fhir.lua URL -- create TEMPLATE PATIENTS REQUESTERS FIRST_SEQ WRK_THREADS
--   wrk ... -s fhir.lua URL -- update BODIES_FILE
--
-- Templates hold JSON placeholders "@@NAME@@" (quotes included), each replaced by raw
-- JSON text, as rest_bench.py's fill() does:
--   create: TEMPLATE is one MedicationRequest; PATIENTS has a line per patient,
--           "<subject JSON>\t<insurance JSON>"; REQUESTERS a line per prescriber
--           (requester JSON). Request number c (FIRST_SEQ + this thread's share + count)
--           picks patient c % P, prescriber (c / P) % D and quantity 10 + (c / (P*D)) % 21,
--           so that no two creates are the same prescription (the server refuses a
--           duplicate item: same patient, prescriber, day, drug and quantity with 409).
--   update: BODIES_FILE has a line per MedicationRequest, "<id>\t<body>", the body holding
--           "@@N@@" once (a client identifier's value), replaced by a unique string, since
--           the server skips an update that changes nothing.
-- Static request strings are built once in init(); only create and update bodies are
-- assembled per request, from pre-split pieces, so wrk's own cost stays small.
-- done() prints one line "NOSKHE_STATUS {json}": responses per HTTP status, all threads.

local FHIR_JSON = "application/fhir+json"
local WRITE_HEADERS = { ["Content-Type"] = FHIR_JSON, ["Accept"] = FHIR_JSON }
local threads = {}

function setup(thread)
   thread:set("thread_no", #threads)   -- a global in that thread's Lua state
   table.insert(threads, thread)
end

local function read_file(path)
   local f = assert(io.open(path, "rb"), "cannot open " .. tostring(path))
   local text = f:read("*a")
   f:close()
   return text
end

local function read_lines(path)
   local lines = {}
   for line in io.lines(path) do
      if line ~= "" then table.insert(lines, line) end
   end
   assert(#lines > 0, "no lines in " .. path)
   return lines
end

local function split_tab(line)
   local at = assert(string.find(line, "\t", 1, true), "no tab in line")
   return string.sub(line, 1, at - 1), string.sub(line, at + 1)
end

-- A template as pieces: {text, name, text, name, ..., text}.
local function compile(template)
   local pieces, pos = {}, 1
   while true do
      local s, e, name = string.find(template, '"@@([%u_]+)@@"', pos)
      if not s then break end
      table.insert(pieces, string.sub(template, pos, s - 1))
      table.insert(pieces, name)
      pos = e + 1
   end
   table.insert(pieces, string.sub(template, pos))
   return pieces
end

local function render(pieces, values)
   local out = {}
   for i, piece in ipairs(pieces) do
      if i % 2 == 1 then
         out[i] = piece
      else
         out[i] = assert(values[piece], "no value for " .. piece)
      end
   end
   return table.concat(out)
end

local mode
local requests = {}      -- healthz, read: ready request strings
local next_index = 1
local sequence = 0
local create_pieces, patients, requesters, first_seq, combos
local update_paths, update_pieces
statuses = {}

function init(args)
   mode = args[1]
   local me = _G.thread_no or 0
   if mode == "healthz" then
      requests[1] = wrk.format("GET", "/healthz")
   elseif mode == "read" then
      local headers = { ["Accept"] = FHIR_JSON }
      for _, id in ipairs(read_lines(args[2])) do
         table.insert(requests, wrk.format("GET", "/fhir/MedicationRequest/" .. id, headers))
      end
      next_index = (me * 7919) % #requests + 1   -- threads start at different ids
   elseif mode == "create" then
      create_pieces = compile(read_file(args[2]))
      patients = {}
      for _, line in ipairs(read_lines(args[3])) do
         local subject, insurance = split_tab(line)
         table.insert(patients, { subject, insurance })
      end
      requesters = read_lines(args[4])
      combos = #patients * #requesters * 21
      local nthreads = tonumber(args[6]) or 1
      first_seq = tonumber(args[5]) + me * math.floor(combos / nthreads)
   elseif mode == "update" then
      update_paths, update_pieces = {}, {}
      for _, line in ipairs(read_lines(args[2])) do
         local id, body = split_tab(line)
         table.insert(update_paths, "/fhir/MedicationRequest/" .. id)
         table.insert(update_pieces, compile(body))
      end
      next_index = (me * 7919) % #update_paths + 1
   else
      error("unknown scenario " .. tostring(mode))
   end
end

local function create_request()
   local c = (first_seq + sequence) % combos
   local np, nd = #patients, #requesters
   local patient = patients[c % np + 1]
   local body = render(create_pieces, {
      ITEM = '"bench-' .. c .. '"',
      SUBJECT = patient[1],
      INSURANCE = patient[2],
      REQUESTER = requesters[math.floor(c / np) % nd + 1],
      GROUP = '"urn:uuid:00000000-0000-4000-8000-' .. string.format("%012d", c) .. '"',
      QTY = tostring(10 + math.floor(c / (np * nd)) % 21),
   })
   return wrk.format("POST", "/fhir/MedicationRequest", WRITE_HEADERS, body)
end

local function update_request()
   local i = next_index
   next_index = next_index % #update_paths + 1
   local body = render(update_pieces[i], { N = '"' .. (_G.thread_no or 0) .. "-" .. sequence .. '"' })
   return wrk.format("PUT", update_paths[i], WRITE_HEADERS, body)
end

function request()
   sequence = sequence + 1
   if mode == "create" then
      return create_request()
   elseif mode == "update" then
      return update_request()
   end
   local r = requests[next_index]
   next_index = next_index % #requests + 1
   return r
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, reqs)
   local totals = {}
   for _, thread in ipairs(threads) do
      local counts = thread:get("statuses")
      if counts then
         for status, count in pairs(counts) do
            totals[status] = (totals[status] or 0) + count
         end
      end
   end
   local parts = {}
   for status, count in pairs(totals) do
      table.insert(parts, string.format('"%d": %d', status, count))
   end
   io.write("NOSKHE_STATUS {" .. table.concat(parts, ", ") .. "}\n")
end
