-- wrk script: each request carries the next access token of a file (one per line), so
-- the load cycles through many users' tokens instead of repeating one.
--   wrk ... -s benchmarks/wrk_tokens.lua URL -- tokens.txt
local tokens = {}
local counter = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  -- each wrk thread has its own Lua state: start the threads at different tokens
  counter = math.random(#tokens)
end

function request()
  counter = counter % #tokens + 1
  return wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. tokens[counter] })
end
