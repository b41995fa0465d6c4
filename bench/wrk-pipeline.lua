-- wrk script for the httpp16 scenario: 16 pipelined GETs per request batch.
-- wrk counts each batch's responses as they arrive (one per request).
init = function(args)
  local r = {}
  for i = 1, 16 do
    r[i] = wrk.format("GET", "/")
  end
  req = table.concat(r)
end

request = function()
  return req
end
