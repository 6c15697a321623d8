-- wrk script: replays pre-signed requests, one file per wrk thread, so every
-- request carries new event ids (a replayed id would only measure duplicates).
-- File format: one request per two lines: "<timestamp> <signature>" then the body.
local counter = 0
local threads = {}

function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

function init(args)
   path = args[1]
   requests = {}
   local file = assert(io.open(args[2] .. "." .. id, "r"))
   while true do
      local sig = file:read("*l")
      local body = file:read("*l")
      if not sig or not body then break end
      local ts, signature = sig:match("^(%S+) (%S+)$")
      requests[#requests + 1] = wrk.format("POST", path, {
         ["Content-Type"] = "application/json",
         ["X-Live-Timestamp"] = ts,
         ["X-Live-Signature"] = signature,
      }, body)
   end
   file:close()
   index = 0
end

function request()
   index = index % #requests + 1
   return requests[index]
end
